import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { defineTask, type TaskArgs, type TaskInput, type TaskName } from './define-task.js';
import type { sendEmail } from './tasks/send-email.js';

test('defineTask infers the literal name and the argument types', () => {
  const t = defineTask({
    name: 'resize_image',
    description: 'd',
    args: z.object({ url: z.string(), width: z.number().default(100) }),
  });
  expectTypeOf<TaskName<typeof t>>().toEqualTypeOf<'resize_image'>();
  expectTypeOf<TaskArgs<typeof t>>().toEqualTypeOf<{ url: string; width: number }>();
  expectTypeOf<TaskInput<typeof t>>().toEqualTypeOf<{ url: string; width?: number | undefined }>();
});

test('built-in contracts type their arguments', () => {
  expectTypeOf<TaskArgs<typeof sendEmail>['subject']>().toEqualTypeOf<string>();
  expectTypeOf<TaskArgs<typeof sendEmail>['html']>().toEqualTypeOf<string | undefined>();
  // @ts-expect-error: send_email has no "body" argument
  expectTypeOf<TaskArgs<typeof sendEmail>['body']>().toBeString();
});
