import { solarProject } from '../../packages/testing/src/vitest-project.js';

// The Python client's unittest suite, run against a real API and worker; each
// Python test is one vitest test, so the repository's summary counts them.
export default solarProject('python-client', { include: ['harness/**/*.test.ts'] });
