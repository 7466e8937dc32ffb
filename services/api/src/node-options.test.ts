import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_NODE_OPTIONS } from './node-options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('API_NODE_OPTIONS', () => {
  it('are options this Node accepts', () => {
    const run = spawnSync(process.execPath, [...API_NODE_OPTIONS, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('are passed by every launcher of the API: the image, npm start, the package and the bench', () => {
    const dockerfile = read('Dockerfile');
    const apiStage = dockerfile.slice(dockerfile.indexOf('AS api'), dockerfile.indexOf('AS worker'));
    const cmd = /^CMD (\[.*\])$/m.exec(apiStage)?.[1];
    expect(cmd).toBeDefined();
    expect(JSON.parse(cmd!)).toEqual(['node', '--enable-source-maps', ...API_NODE_OPTIONS, 'dist/main.js']);

    const start = (JSON.parse(read('services/api/package.json')) as { scripts: { start: string } }).scripts
      .start;
    expect(start).toBe(`node ${API_NODE_OPTIONS.join(' ')} dist/main.js`);

    // scripts/run.mjs is plain JavaScript (it runs before anything is built): it lists them itself.
    const runner = read('scripts/run.mjs');
    expect(runner).toContain(
      `['api', 'services/api/dist/main.js', ${JSON.stringify(API_NODE_OPTIONS).replaceAll('"', "'")}]`,
    );

    // The bench runs ours as deployed (the bare route on Node's defaults).
    expect(read('bench/src/main.ts')).toMatch(/child\('api-child\.ts', \['ours'[^\n]*API_NODE_OPTIONS\)/);
  });
});
