import type { TestProject } from 'vitest/node';
import { redisForTests } from './redis-for-tests.js';

/** Vitest global setup: one Redis for the run, shared through `inject('redisUrl')`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await redisForTests();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
