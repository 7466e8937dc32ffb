import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskStatusResponse } from '@solar-tasks/contract';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './test-support/stack.js';

/** Debian's chromium package (`apt-get install -y chromium`); no browser is downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
/** Screenshots land here (gitignored). */
const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../test-results');
const ADMIN = { username: 'ops', password: 'ops-password-0123456789' };

if (!HAS_CHROMIUM)
  console.warn(`SKIPPED the dashboard browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

let stack: Stack | undefined;
let browser: Browser | undefined;
beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function status(s: Stack, id: string): Promise<TaskStatusResponse> {
  return (await (await s.call('GET', `/api/tasks/status/${id}/`)).json()) as TaskStatusResponse;
}

describe.skipIf(!HAS_CHROMIUM)(`admin dashboard in a headless browser (needs ${CHROMIUM})`, () => {
  it('asks for a login, then shows a failed task, retries it and shows it completed', async () => {
    stack = await startStack(testRedisUrl(), { admin: ADMIN });
    const s = stack;
    // Fails its first attempt and has no retry left, so it ends failed. bull-board's retry keeps the
    // attempt count (BullMQ `job.retry()`), so the second run is attempt 2 and succeeds.
    const res = await s.call('POST', '/api/tasks/enqueue/', {
      task_name: 'flaky',
      kwargs: { fail_times: 1 },
      max_retries: 0,
    });
    expect(res.status).toBe(201);
    const { task_id: id } = (await res.json()) as { task_id: string };
    await waitFor(`task ${id} failed`, async () => (await status(s, id)).status === 'failed');

    // Without credentials the dashboard answers 401 with a Basic challenge, which a headless
    // browser with no login to give reports as invalid credentials.
    const anonymous = await browser!.newContext();
    await expect((await anonymous.newPage()).goto(`${s.baseUrl}/admin`)).rejects.toThrow(
      /ERR_INVALID_AUTH_CREDENTIALS/,
    );
    await anonymous.close();

    const context = await browser!.newContext({
      httpCredentials: ADMIN,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) blocked.push(msg.text());
    });
    const first = await page.goto(`${s.baseUrl}/admin/queue/default?status=failed`);
    expect(first?.status()).toBe(200);
    // The job's card shows its id and failure; its Retry button sends it back to the queue.
    const card = page.locator('[class*="card"]', { hasText: id }).first();
    await card.waitFor({ timeout: 15_000 });
    await expect.poll(() => card.textContent()).toContain('flaky failure 1');
    // Job actions are icon buttons with a tooltip: find Retry by its icon, check its tooltip, click.
    const retry = card.locator('[class*="jobActions"] button:has(svg.lucide-refresh-cw)').first();
    await retry.hover();
    await page
      .getByText(/^Retry$/)
      .first()
      .waitFor({ timeout: 5000 });
    await retry.click();
    const confirm = page.getByRole('button', { name: /^(confirm|retry|yes)$/i });
    if (await confirm.count()) await confirm.first().click();
    await waitFor(
      `task ${id} completed after the retry`,
      async () => (await status(s, id)).status === 'completed',
    );
    expect((await status(s, id)).result).toEqual({ succeeded_on: 2 });

    await page.goto(`${s.baseUrl}/admin/queue/default?status=completed`);
    const done = page.locator('[class*="card"]', { hasText: id }).first();
    await done.waitFor({ timeout: 15_000 });
    await expect.poll(() => done.textContent()).toContain('succeeded_on');
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: resolve(RESULTS, 'admin-dashboard-retried-task.png'), fullPage: true });
    // The UI works under its content security policy (scripts and styles load, nothing is blocked).
    expect(blocked.filter((m) => !/fonts\.googleapis/.test(m))).toEqual([]);
    await context.close();
  }, 60_000);
});
