import {
  generateReport,
  processLead,
  type QueueStatusResponse,
  sendEmail,
  type TaskStatusResponse,
} from '@solar-tasks/contract';
import { describe, expectTypeOf, test } from 'vitest';
import { createClient, type EnqueueResult, type TaskType } from './task-client.js';

const client = createClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'a-key-of-sixteen-chars' });

describe('enqueue is typed by the task contract', () => {
  test('accepts the contract’s arguments and types the result by the task name', () => {
    expectTypeOf(
      client.enqueue(sendEmail, { to: 'ann@example.com', subject: 'Quote', text: 'Ready' }, { priority: 3 }),
    ).resolves.toEqualTypeOf<EnqueueResult<'send_email'>>();
    expectTypeOf<EnqueueResult<'send_email'>['task_name']>().toEqualTypeOf<'send_email'>();
    // Optional arguments and arguments with defaults may be left out; arrays where the schema allows them.
    void client.enqueue(sendEmail, { to: ['a@example.com', 'b@example.com'], subject: 's', text: 't' });
    void client.enqueue(generateReport, { kind: 'leads', from: '2026-01-01', to: '2026-01-31' });
    void client.enqueue(processLead, { name: 'Ann', phone: '+44 20 7946 0000', monthly_bill: 120 });
  });

  test('a missing, unknown or mistyped argument does not compile', () => {
    // @ts-expect-error: `text` is required by send_email
    void client.enqueue(sendEmail, { to: 'ann@example.com', subject: 'Quote' });
    // @ts-expect-error: send_email has no `body` argument (it is `text`)
    void client.enqueue(sendEmail, { to: 'ann@example.com', subject: 'Quote', body: 'Ready' });
    // @ts-expect-error: `subject` is a string
    void client.enqueue(sendEmail, { to: 'ann@example.com', subject: 42, text: 'Ready' });
    // @ts-expect-error: `kind` is one of task_summary | leads
    void client.enqueue(generateReport, { kind: 'sales', from: '2026-01-01', to: '2026-01-31' });
    // @ts-expect-error: `monthly_bill` is a number
    void client.enqueue(processLead, { name: 'Ann', phone: '1', monthly_bill: '120' });
    // @ts-expect-error: the task is a contract, not a name
    void client.enqueue('send_email', { to: 'ann@example.com' });
  });

  test('enqueue options are the REST fields, typed', () => {
    void client.enqueue(
      sendEmail,
      { to: 'a@example.com', subject: 's', text: 't' },
      {
        priority: 1,
        max_retries: 0,
        retry_delay: 5,
        eta: new Date(),
        idempotency_key: 'quote-1',
      },
    );
    // @ts-expect-error: priority is a number
    void client.enqueue(sendEmail, { to: 'a@example.com', subject: 's', text: 't' }, { priority: 'high' });
    // @ts-expect-error: the option is `max_retries`, as in the REST body and the Python client
    void client.enqueue(sendEmail, { to: 'a@example.com', subject: 's', text: 't' }, { maxRetries: 3 });
  });
});

test('answers are the contract’s response types', () => {
  expectTypeOf(client.status('id')).resolves.toEqualTypeOf<TaskStatusResponse>();
  expectTypeOf(client.wait('id')).resolves.toEqualTypeOf<TaskStatusResponse>();
  expectTypeOf(client.cancel('id')).resolves.toEqualTypeOf<TaskStatusResponse>();
  expectTypeOf(client.retry('id')).resolves.toEqualTypeOf<TaskStatusResponse>();
  expectTypeOf(client.queueStatus()).resolves.toEqualTypeOf<QueueStatusResponse>();
  expectTypeOf(client.list()).resolves.toEqualTypeOf<TaskType[]>();
  expectTypeOf<TaskStatusResponse['status']>().toEqualTypeOf<
    'pending' | 'scheduled' | 'running' | 'retrying' | 'completed' | 'failed' | 'cancelled'
  >();
  expectTypeOf<TaskType['parameters']>().toEqualTypeOf<string[]>();
});
