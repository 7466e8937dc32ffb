import { solarProject } from '../../packages/testing/src/vitest-project.js';

/**
 * The fault suite: every test starts its own redis-server and real worker/API
 * processes, kills things, and checks that no task was lost. Files run one
 * after another (they measure memory and recovery times, and share 2 cores).
 */
export default solarProject('fault', {
  include: ['src/**/*.test.ts'],
  globalSetup: [],
  fileParallelism: false,
  testTimeout: 240_000,
  hookTimeout: 60_000,
});
