import { once } from 'node:events';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/** A message the test SMTP server accepted: its envelope and the parsed message. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  mail: ParsedMail;
  raw: Buffer;
}

/** Options of {@link startSmtpSink}. */
export interface SmtpSinkOptions {
  port?: number;
  /** Require this login (AUTH PLAIN/LOGIN over the plain connection). */
  auth?: { user: string; pass: string };
  /** Decide per recipient: an SMTP reply code to refuse with, or undefined to accept. */
  rcptReply?: (address: string) => number | undefined;
}

/** A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps what it receives. */
export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass)
        return callback(null, { user: auth.username });
      const err = Object.assign(new Error('invalid login'), { responseCode: 535 });
      return callback(err);
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const code = options.rcptReply?.(address.address);
      if (code)
        return callback(
          Object.assign(new Error(`mailbox ${address.address} refused`), { responseCode: code }),
        );
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((mail) => {
            received.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              mail,
              raw,
            });
            callback();
          })
          .catch(callback);
      });
    },
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server.server, 'listening');
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
