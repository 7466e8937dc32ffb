import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'services/*/vitest.config.ts',
      'clients/*/vitest.config.ts',
      'tests/*/vitest.config.ts',
      'bench/vitest.config.ts',
    ],
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
