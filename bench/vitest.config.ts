import { solarProject } from '../packages/testing/src/vitest-project.js';

/** A smoke run of `pnpm bench` (BENCH_QUICK=1): the output's shape, never its figures. */
export default solarProject('bench', {
  include: ['src/**/*.test.ts'],
  globalSetup: [],
  testTimeout: 240_000,
  hookTimeout: 60_000,
});
