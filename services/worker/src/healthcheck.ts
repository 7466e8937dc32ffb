#!/usr/bin/env node
/**
 * Container health check of a worker: `node dist/healthcheck.js <heartbeat file> [max age s]`.
 * Exits 0 when the worker's heartbeat file is fresher than the max age (30 s by default).
 */
import { heartbeatAgeSeconds } from './heartbeat.js';

const [file, maxAgeArg = '30'] = process.argv.slice(2);
const maxAge = Number(maxAgeArg);
if (!file || !(maxAge > 0)) {
  console.error('usage: healthcheck.js <heartbeat file> [max age in seconds]');
  process.exit(2);
}
const age = heartbeatAgeSeconds(file);
if (age === undefined) {
  console.error(`unhealthy: no heartbeat file at ${file} (worker not started, or stopped)`);
  process.exit(1);
}
if (age > maxAge) {
  console.error(`unhealthy: last heartbeat ${age.toFixed(1)} s ago (limit ${maxAge} s)`);
  process.exit(1);
}
console.log(`healthy: heartbeat ${age.toFixed(1)} s ago`);
