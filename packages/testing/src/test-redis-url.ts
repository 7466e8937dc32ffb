import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** The URL of the run's shared Redis, provided by the root global setup. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}
