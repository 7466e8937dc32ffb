import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiSettingsSchema } from '@solar-tasks/api';
import { workerSettingsSchema } from '@solar-tasks/worker';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readDockerfile, root } from './dockerfile.js';

const composeFile = `${root}docker-compose.yml`;
const dclint = fileURLToPath(new URL('../node_modules/.bin/dclint', import.meta.url));
const hasDockerCompose =
  spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).status === 0;

interface Service {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  command?: string[];
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { api, worker, redis, mailpit } = compose.services as Record<string, Service>;

/** Every setting a service reads. */
const serviceSettings = new Set([
  ...Object.keys(apiSettingsSchema.shape),
  ...Object.keys(workerSettingsSchema.shape),
]);
/** Settings only docker-compose.yml reads (host ports). */
const composeOnly = ['API_PORT', 'MAILPIT_UI_PORT', 'REDIS_HOST_PORT'];

describe('docker-compose.yml', () => {
  it('passes dclint (the Compose schema plus its rules) with no error or warning', () => {
    const r = spawnSync(dclint, [composeFile, '--max-warnings', '0', '--color', 'false'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).not.toMatch(/error|warning/);
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasDockerCompose)(
    'is valid for Debian’s docker-compose, with and without a .env copied from .env.example',
    () => {
      const plain = spawnSync('docker-compose', ['-f', composeFile, 'config', '-q'], {
        cwd: root,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(plain.stderr).toBe('');
      expect(plain.status).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), 'solar-compose-'));
      try {
        copyFileSync(composeFile, join(dir, 'docker-compose.yml'));
        copyFileSync(`${root}.env.example`, join(dir, '.env'));
        const withEnv = spawnSync('docker-compose', ['config'], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH },
        });
        expect(withEnv.stderr).toBe('');
        expect(withEnv.status).toBe(0);
        // Empty values in .env fall back to the compose defaults (":-").
        expect(withEnv.stdout).toContain('SMTP_URL: smtp://mailpit:1025');
        expect(withEnv.stdout).toContain('SMTP_FROM: Solar CRM <no-reply@solar-crm.local>');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
  if (!hasDockerCompose) {
    console.warn(
      '[deploy] docker-compose is not installed, so `docker-compose config` was skipped ' +
        '(Debian: apt-get install -y docker-compose); dclint still validated the file against the Compose schema.',
    );
  }

  it('runs Redis with AOF and noeviction on a named volume, healthy before anything starts', () => {
    expect(redis!.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(redis!.volumes).toContain('redis-data:/data');
    expect(redis!.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(api!.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(worker!.depends_on).toEqual({
      mailpit: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(Object.keys(compose.volumes).sort()).toEqual(['app-data', 'redis-data']);
  });

  it('builds the API and worker from the Dockerfile targets, whose HEALTHCHECKs stand for theirs', () => {
    const dockerfile = readDockerfile();
    for (const [name, service] of [
      ['api', api],
      ['worker', worker],
    ] as const) {
      expect(service!.build).toEqual({ context: '.', target: name });
      expect(dockerfile.chain(name).some((i) => i.getKeyword() === 'HEALTHCHECK')).toBe(true);
    }
    expect(mailpit!.healthcheck?.test).toEqual(['CMD', '/mailpit', 'readyz']);
  });

  it('runs several workers, stopped more slowly than their task grace period, sending mail to Mailpit', () => {
    expect(worker!.deploy?.replicas).toBeGreaterThan(1);
    const grace = Number(/:-(\d+)/.exec(worker!.environment!.WORKER_SHUTDOWN_GRACE!)![1]);
    expect(Number.parseInt(worker!.stop_grace_period!, 10)).toBeGreaterThan(grace);
    expect(worker!.environment!.SMTP_URL).toMatch(/:-smtp:\/\/mailpit:1025}$/);
  });

  it('passes only settings the services know, and publishes ports on loopback only', () => {
    for (const service of [api!, worker!]) {
      for (const key of Object.keys(service.environment!)) expect(serviceSettings, key).toContain(key);
    }
    for (const service of Object.values(compose.services))
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('.env.example and the README', () => {
  const example = readFileSync(`${root}.env.example`, 'utf8');
  const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

  it('.env.example lists every setting once, and nothing the services do not read', () => {
    expect(listed.length).toBe(new Set(listed).size);
    expect(new Set(listed)).toEqual(new Set([...serviceSettings, ...composeOnly]));
  });

  it('the README configuration table names every setting', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const missing = [...serviceSettings].filter((s) => !readme.includes(`\`${s}\``));
    expect(missing).toEqual([]);
  });
});
