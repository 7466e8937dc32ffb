import { dockerEngineAnswers } from './docker-engine.js';
import { startRedisServer } from './redis-server.js';

/** A Redis for a test run, and how to give it back. */
export interface TestRedis {
  url: string;
  /** Where it came from: `env`, `testcontainers` or `redis-server`. */
  source: 'env' | 'testcontainers' | 'redis-server';
  stop(): Promise<void>;
}

/**
 * Finds the Redis for a test run: `REDIS_URL` when set; else, where a Docker
 * engine answers, a throwaway container through testcontainers; else a
 * `redis-server` binary on a free port; else an error that says how to get one.
 * Tests share it by using a unique key prefix each (see `uniquePrefix`).
 */
export async function redisForTests(): Promise<TestRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, source: 'env', stop: async () => {} };

  if (await dockerEngineAnswers()) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    return {
      url: container.getConnectionUrl(),
      source: 'testcontainers',
      stop: async () => void (await container.stop()),
    };
  }

  const server = await startRedisServer();
  return { url: server.url, source: 'redis-server', stop: () => server.stop({ removeData: true }) };
}
