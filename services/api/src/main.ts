#!/usr/bin/env node
import { runApiMain } from './api-process.js';
import { loadApiSettings } from './env.js';

await runApiMain(() => loadApiSettings());
