export { dockerEngineAnswers } from './docker-engine.js';
export { redisForTests, type TestRedis } from './redis-for-tests.js';
export {
  findRedisServerBinary,
  freePort,
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server.js';
export { testRedisUrl } from './test-redis-url.js';
export { nextEvent, uniquePrefix, waitFor } from './wait.js';
