import { defineProject } from 'vitest/config';

// Pure: no Redis, so no global setup. Type tests (`*.test-d.ts`) run through tsc.
export default defineProject({
  test: {
    name: 'contract',
    include: ['src/**/*.test.ts'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] },
  },
  ssr: { resolve: { conditions: ['@solar-tasks/source'] } },
});
