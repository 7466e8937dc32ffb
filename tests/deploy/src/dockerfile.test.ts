import { readFileSync } from 'node:fs';
import { API_NODE_OPTIONS } from '@solar-tasks/api/node-options';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { execForm, last, readDockerfile, root } from './dockerfile.js';

// No Docker engine (nor hadolint) on these machines: the Dockerfile is parsed
// and checked for syntax by dockerfile-utils (the linter behind VS Code's
// Dockerfile support) and for the rules below, most of them hadolint's. What
// the images run is run for real by pruned-build.test.ts.
const dockerfile = readDockerfile();
const TARGETS = ['api', 'worker'] as const;

describe('Dockerfile', () => {
  it('has no syntax problems', () => {
    const problems = validate(dockerfile.text, {});
    expect(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it('is multi-stage: a build stage, a shared runtime stage, and one target per service', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'runtime', 'api', 'worker']);
    for (const target of TARGETS) expect(dockerfile.stage(target).from).toBe('runtime');
  });

  it('pins every base image to a version tag, never latest (hadolint DL3006, DL3007)', () => {
    for (const s of dockerfile.stages.filter((s) => !dockerfile.stages.some((o) => o.name === s.from))) {
      expect(s.from, `stage ${s.name}`).toMatch(/^[\w./-]+:\d[\w.-]*$/);
      expect(s.from).not.toMatch(/:latest$/);
    }
  });

  it('builds with the pinned pnpm and ships a `pnpm deploy --prod` directory of each service', () => {
    const build = dockerfile
      .stage('build')
      .instructions.map((i) => i.getTextContent())
      .join('\n');
    const pinned = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { packageManager: string })
      .packageManager;
    expect(build).toContain(`npm install --global ${pinned}`);
    expect(build).toContain('--frozen-lockfile');
    for (const target of TARGETS) {
      expect(build).toContain(`pnpm --filter @solar-tasks/${target} deploy --prod`);
      const copy = last(dockerfile.stage(target).instructions, 'COPY')!;
      expect(copy.getTextContent()).toMatch(new RegExp(`--from=build /out/${target} /app$`));
    }
  });

  it.each(TARGETS)('%s runs as a non-root user under tini, in exec form (DL3002, DL3025)', (target) => {
    const chain = dockerfile.chain(target);
    expect(last(chain, 'USER')?.getArgumentsContent()).toBe('node');
    expect(execForm(last(chain, 'ENTRYPOINT')!)).toEqual(['/usr/bin/tini', '--']);
    // The API also takes its V8 options (API_NODE_OPTIONS: a bigger young generation).
    const nodeOptions = target === 'api' ? API_NODE_OPTIONS : [];
    expect(execForm(last(chain, 'CMD')!)).toEqual([
      'node',
      '--enable-source-maps',
      ...nodeOptions,
      'dist/main.js',
    ]);
    // USER comes after the last COPY and RUN of the target, so nothing it ships is owned by the user.
    const index = (i: ReturnType<typeof last>) => (i ? chain.indexOf(i) : -1);
    expect(index(last(chain, 'USER'))).toBeGreaterThan(index(last(chain, 'COPY')));
  });

  it('puts the `tasks` CLI of the worker package on PATH in the worker image', () => {
    const bin = (
      JSON.parse(readFileSync(`${root}services/worker/package.json`, 'utf8')) as {
        bin: Record<string, string>;
      }
    ).bin;
    expect(bin.tasks).toBe('./dist/cli.js');
    const runs = dockerfile
      .stage('worker')
      .instructions.filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getTextContent())
      .join('\n');
    expect(runs).toContain('exec node --enable-source-maps /app/dist/cli.js "$@"');
    expect(runs).toMatch(/> \/usr\/local\/bin\/tasks/);
    expect(runs).toContain('chmod 755 /usr/local/bin/tasks');
  });

  it.each(TARGETS)('%s has a HEALTHCHECK in exec form with bounded timing', (target) => {
    const healthcheck = last(dockerfile.chain(target), 'HEALTHCHECK')!;
    expect(healthcheck).toBeDefined();
    expect(execForm(healthcheck)[0]).toBe('node');
    const flags = healthcheck.getTextContent();
    for (const flag of ['--interval=', '--timeout=', '--start-period=', '--retries='])
      expect(flags).toContain(flag);
  });

  it.each(TARGETS)('%s carries OCI labels (title, description, version, revision)', (target) => {
    const labels = dockerfile
      .chain(target)
      .filter((i) => i.getKeyword() === 'LABEL')
      .map((i) => i.getTextContent())
      .join('\n');
    for (const key of ['title', 'description', 'version', 'revision', 'vendor'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('installs OS packages without recommends and cleans the apt lists (DL3015, DL3009), and uses no ADD (DL3020)', () => {
    for (const stage of dockerfile.stages) {
      for (const run of stage.instructions.filter((i) => i.getKeyword() === 'RUN')) {
        const text = run.getTextContent();
        if (!text.includes('apt-get install')) continue;
        expect(text).toContain('--no-install-recommends');
        expect(text).toContain('rm -rf /var/lib/apt/lists/*');
        expect(text).toMatch(/tini=\d/);
      }
      expect(stage.instructions.some((i) => i.getKeyword() === 'ADD')).toBe(false);
    }
  });

  it('keeps dependencies, builds, secrets and history out of the build context (.dockerignore)', () => {
    const ignore = readFileSync(`${root}.dockerignore`, 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git', '.env', '.data'])
      expect(ignore).toContain(entry);
  });
});
