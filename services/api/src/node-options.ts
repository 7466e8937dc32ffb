/**
 * The V8 options the API process runs with. Every launcher passes them: the
 * Dockerfile's `CMD`, `npm start` (scripts/run.mjs), this package's `start`
 * script and `pnpm bench` (node-options.test.ts checks each).
 *
 * `--max-semi-space-size=64`: a young generation of up to 2 × 64 MiB instead
 * of V8's 2 × 16. A bulk enqueue of 500 tasks allocates ~15 MB of objects that
 * live only as long as the request; with the default, many outlived a young
 * collection and were promoted, and the old generation's collections then
 * slowed the requests after them. With traffic mixing single and bulk
 * enqueues (the bench's rounds), the API with it answered 1.10 × the single
 * enqueues per second of the API without it (six alternating rounds) and
 * 1.03 × the bulk tasks, for ~100 MB more peak RSS under that load
 * (docs/performance.md, docs/operations.md).
 */
export const API_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=64'];
