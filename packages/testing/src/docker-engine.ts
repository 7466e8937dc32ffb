import { request } from 'node:http';

/**
 * True when a Docker engine answers `GET /_ping` within `timeoutMs`.
 * testcontainers hangs for minutes on a socket that accepts and never
 * answers, so we ask first (see shared/TOOLCHAIN.md).
 */
export function dockerEngineAnswers(
  dockerHost = process.env.DOCKER_HOST,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    let target: { socketPath: string } | { host: string; port: number };
    if (dockerHost?.startsWith('tcp://')) {
      const u = new URL(dockerHost.replace('tcp://', 'http://'));
      target = { host: u.hostname, port: Number(u.port || 2375) };
    } else {
      target = { socketPath: dockerHost?.replace('unix://', '') || '/var/run/docker.sock' };
    }
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
