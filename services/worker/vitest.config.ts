import { solarProject } from '../../packages/testing/src/vitest-project.js';

export default solarProject('worker');
