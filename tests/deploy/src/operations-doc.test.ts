import { readFileSync } from 'node:fs';
import { workerSettingsSchema } from '@solar-tasks/worker';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { execForm, last, readDockerfile, root } from './dockerfile.js';

// The Kubernetes example in docs/operations.md cannot be applied here (no
// cluster); these checks keep it consistent with the images and settings.
/** The parts of the manifests these checks read. */
interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string; port: number };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    template: {
      spec: {
        terminationGracePeriodSeconds: number;
        containers: {
          env: { name: string; value?: string }[];
          livenessProbe: Probe;
          readinessProbe: Probe;
        }[];
      };
    };
    scaleTargetRef: { kind: string; name: string };
    minReplicas: number;
  };
}

const doc = readFileSync(`${root}docs/operations.md`, 'utf8');
const manifests = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) =>
  parseAllDocuments(m[1]!).map((d) => {
    if (d.errors.length) throw new Error(`docs/operations.md: ${d.errors[0]!.message}`);
    return d.toJS() as Manifest;
  }),
);
const byName = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata?.name === name);
  if (!found) throw new Error(`docs/operations.md has no ${kind} ${name}`);
  return found;
};

describe('the Kubernetes example in docs/operations.md', () => {
  const worker = byName('Deployment', 'solar-tasks-worker');
  const spec = worker.spec.template.spec;
  const container = spec.containers[0]!;
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));

  it('gives workers longer to stop than their task grace period', () => {
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(env.WORKER_SHUTDOWN_GRACE));
  });

  it('probes workers with the image’s own health check and sets only known settings', () => {
    const dockerfile = readDockerfile();
    expect(container.livenessProbe.exec?.command).toEqual(
      execForm(last(dockerfile.chain('worker'), 'HEALTHCHECK')!),
    );
    for (const name of Object.keys(env)) expect(Object.keys(workerSettingsSchema.shape)).toContain(name);
  });

  it('routes API traffic on readiness (/readyz) and restarts on liveness (/healthz)', () => {
    const api = byName('Deployment', 'solar-tasks-api').spec.template.spec.containers[0]!;
    expect(api.readinessProbe.httpGet?.path).toBe('/readyz');
    expect(api.livenessProbe.httpGet?.path).toBe('/healthz');
  });

  it('autoscales the worker Deployment', () => {
    const hpa = byName('HorizontalPodAutoscaler', 'solar-tasks-worker');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'solar-tasks-worker' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
  });
});
