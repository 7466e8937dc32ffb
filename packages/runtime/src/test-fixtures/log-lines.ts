// Writes N log lines through createLogger to a file, then ends as told.
// Argv: <file> <lines> <exit|natural|idle>
import { createLogger } from '../logger.js';
import { noteOf } from './log-notes.js';

const [file, lines, ending] = process.argv.slice(2) as [string, string, string];
const logger = createLogger({ name: 'fixture', level: 'info', dest: file });
for (let i = 0; i < Number(lines); i++) logger.info({ i, note: noteOf(i) }, 'line');
if (ending === 'exit') process.exit(0);
// `idle`: stay up (the test reads the file while the process lives, then kills it).
if (ending === 'idle') setInterval(() => {}, 1000);
