import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { processLead } from '@solar-tasks/contract';
import type { TaskHandler } from '../task-registry.js';
import type { HandlerDeps } from './handler-deps.js';

/** `process_lead`: append the normalised lead to `DATA_DIR/leads.jsonl`. */
export function createProcessLeadHandler(deps: HandlerDeps): TaskHandler<typeof processLead> {
  const file = join(deps.dataDir, 'leads.jsonl');
  return async (args, ctx) => {
    const lead = {
      ...args,
      task_id: ctx.taskId,
      submitted_at: args.submitted_at ?? new Date().toISOString(),
    };
    await mkdir(deps.dataDir, { recursive: true });
    await appendFile(file, `${JSON.stringify(lead)}\n`);
    return { outcome: 'created', sink: file };
  };
}
