/**
 * A route's answers written with `JSON.stringify` alone, for the enqueue
 * routes: their bodies are built right there from typed values, and checking
 * them again against the zod schema on every answer (the type provider's
 * serializer) cost a bulk enqueue more than its own validation of 1,000
 * items' shape. The schemas stay on the route for the OpenAPI document.
 */
export function plainJsonSerializer(): (data: unknown) => string {
  return (data) => JSON.stringify(data);
}
