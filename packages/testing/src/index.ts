export { dockerEngineAnswers } from './docker-engine.js';
export { redisForTests, type TestRedis } from './redis-for-tests.js';
export {
  findRedisServerBinary,
  freePort,
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server.js';
export {
  type Endpoint,
  REPLICATION_ARGS,
  type RedisClusterHandle,
  type SentinelGroupHandle,
  type SentinelGroupOptions,
  type SentinelProcess,
  startRedisCluster,
  startSentinelGroup,
} from './redis-topologies.js';
export { testRedisUrl } from './test-redis-url.js';
export { cleanUp, nextEvent, uniquePrefix, waitFor } from './wait.js';
