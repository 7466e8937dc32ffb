import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { root } from './dockerfile.js';

const version = (
  JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { packageManager: string }
).packageManager.split('@')[1];

/** pnpm at the repository's pinned version: the one on PATH if it matches, else through npx (like scripts/run.mjs). */
export function pnpmCommand(): [string, string[]] {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim() === version) return ['pnpm', []];
  return ['npx', ['--yes', `pnpm@${version}`]];
}
