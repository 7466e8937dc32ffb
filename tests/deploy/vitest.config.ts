import { solarProject } from '../../packages/testing/src/vitest-project.js';

export default solarProject('deploy', { testTimeout: 120_000, hookTimeout: 120_000 });
