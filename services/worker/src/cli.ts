#!/usr/bin/env node
// The `tasks` command line (docs/cli.md). Settings come from env.ts, like the worker's.
import { runCli } from './cli/program.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// A daemon or a finished command may leave timers behind (BullMQ, ioredis): leave now.
process.exit(code);
