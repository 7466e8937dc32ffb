import { SettingsError } from '@solar-tasks/runtime';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadWorkerSettings } from './env.js';
import { handlerDepsFrom } from './worker-process.js';

const fakeRedis = {} as Redis; // handlerDepsFrom only passes it on

describe('worker settings for the built-in tasks', () => {
  it('defaults to the outbox, the leads file, a 30-day de-dup window and AU phone numbers', () => {
    const deps = handlerDepsFrom(loadWorkerSettings({}), fakeRedis);
    expect(deps).toMatchObject({
      smtp: undefined,
      leadSinkUrl: undefined,
      salesNotifyEmail: 'sales@solar-crm.local',
      leadDedupWindowDays: 30,
      leadPhoneCountry: 'AU',
      autoReply: { subject: 'Thanks for your enquiry, {{first_name}}', text: undefined },
    });
  });

  it('builds SMTP settings and names a bad variable', () => {
    const settings = loadWorkerSettings({
      SMTP_URL: 'smtps://mail.example.com:465',
      SMTP_USER: 'u',
      SMTP_PASSWORD: 'p',
      SMTP_TIMEOUT: '5',
      AUTO_REPLY_ENABLED: 'false',
    });
    expect(handlerDepsFrom(settings, fakeRedis)).toMatchObject({
      smtp: {
        url: 'smtps://mail.example.com:465',
        user: 'u',
        password: 'p',
        timeoutMs: 5000,
        rejectUnauthorized: true,
      },
      autoReply: false,
    });
    for (const [variable, value] of [
      ['SMTP_URL', 'http://mail.example.com'],
      ['LEAD_SINK_URL', 'ftp://crm'],
      ['LEAD_PHONE_COUNTRY', 'australia'],
      ['SALES_NOTIFY_EMAIL', 'sales'],
      ['LEAD_DEDUP_WINDOW_DAYS', '0'],
    ] as const) {
      expect(() => loadWorkerSettings({ [variable]: value }), variable).toThrow(
        expect.objectContaining({ problems: [expect.objectContaining({ variable })] }),
      );
    }
  });

  it('refuses an auto-reply template it cannot read, naming AUTO_REPLY_TEMPLATE', () => {
    const settings = loadWorkerSettings({ AUTO_REPLY_TEMPLATE: '/nonexistent/auto-reply.txt' });
    expect(() => handlerDepsFrom(settings, fakeRedis)).toThrow(SettingsError);
    expect(() => handlerDepsFrom(settings, fakeRedis)).toThrow(/AUTO_REPLY_TEMPLATE/);
  });
});
