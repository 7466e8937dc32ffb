import { solarProject } from '../testing/src/vitest-project.js';

// Integration tests run against a real API and worker (in-process, on a free
// port); type tests (`*.test-d.ts`) prove a wrong argument does not compile.
export default solarProject('client', {
  typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
});
