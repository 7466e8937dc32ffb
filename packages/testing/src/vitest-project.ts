import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const globalSetup = fileURLToPath(new URL('./global-setup.ts', import.meta.url));

/**
 * A vitest project for one workspace package: tests beside the code, the
 * workspace's source condition (so tests run TypeScript without a build), and
 * one Redis for the project's run, provided as `inject('redisUrl')`.
 */
export function solarProject(name: string, test: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      globalSetup: [globalSetup],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      ...test,
    },
    ssr: { resolve: { conditions: ['@solar-tasks/source'] } },
    resolve: { conditions: ['@solar-tasks/source'] },
  });
}
