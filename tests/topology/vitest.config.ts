import { solarProject } from '../../packages/testing/src/vitest-project.js';

// Each test starts its own Redis topology (several redis-server processes), so
// the files run one at a time: on 2 cores, parallel clusters only slow each other.
export default solarProject('topology', {
  testTimeout: 120_000,
  hookTimeout: 60_000,
  fileParallelism: false,
});
