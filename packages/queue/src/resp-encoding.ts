import { Command } from 'ioredis';

/**
 * The bytes of one Redis command in RESP2 (an array of bulk strings), the
 * same bytes ioredis's `Command#toWritable` makes for a command that carries a
 * `Buffer` argument, in fewer steps.
 *
 * BullMQ's scripts carry their options packed with msgpack, as `Buffer`s, so
 * every enqueue (`addJob`) and every finished task (`moveToFinished`) goes
 * through ioredis's buffer path: it measures and writes each piece (the count,
 * each argument's `$length` line, the argument, its CRLF) into the result
 * separately, two native calls per piece, ~60 for a 14-argument `addJob`:
 * ~5 µs per command on the bench machine, the largest single item of an
 * enqueue in the API's CPU profile after the socket writes. Here the text
 * between two buffers is joined in JavaScript and written with one call:
 * ~1.8 µs for the same command (see docs/performance.md).
 *
 * Returns undefined for an argument that is neither a string nor a `Buffer`
 * (ioredis has turned every other kind into a string by then; the caller then
 * keeps ioredis's own encoding).
 */
export function encodeCommand(name: string, args: readonly unknown[]): Buffer | undefined {
  // Text and buffers in order: pieces[0], pieces[2], … are text; pieces[1], pieces[3], … buffers.
  const pieces: (string | Buffer)[] = [];
  let text = `*${args.length + 1}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`;
  let size = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === 'string') {
      text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    } else if (arg instanceof Buffer) {
      pieces.push(`${text}$${arg.length}\r\n`, arg);
      size += arg.length;
      text = '\r\n';
    } else {
      return undefined;
    }
  }
  pieces.push(text);
  const lengths: number[] = [];
  for (let i = 0; i < pieces.length; i += 2) {
    const length = Buffer.byteLength(pieces[i] as string);
    lengths.push(length);
    size += length;
  }
  const out = Buffer.allocUnsafe(size) as Buffer & Utf8Writable;
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (typeof piece === 'string') {
      offset += out.utf8Write(piece, offset, lengths[i >> 1]!);
    } else {
      offset += piece.copy(out, offset);
    }
  }
  return out;
}

/** Node's `Buffer#utf8Write` (what `write(text, offset, length, 'utf8')` calls), left out of its type declarations. */
interface Utf8Writable {
  utf8Write(text: string, offset: number, length: number): number;
}

/** Set on a command whose bytes {@link encodeCommand} may make (by {@link useFastEncoding}). */
const FAST_ENCODING = Symbol('solar-tasks.fastEncoding');

/** The fields of an ioredis command the encoder reads (`bufferMode`: it carries a `Buffer`). */
interface EncodableCommand {
  name: string;
  args: unknown[];
  bufferMode?: boolean;
  [FAST_ENCODING]?: true;
}

let installed = false;

/**
 * Marks `command` to be encoded by {@link encodeCommand} when it is written.
 * ioredis builds commands itself (its commands, BullMQ's scripts), so the
 * encoder takes over `Command.prototype.toWritable`, once per process, for
 * marked commands only: every other client in the process (raw BullMQ in the
 * bench, a `Cluster`) keeps ioredis's own encoding, at the cost of one
 * property check. A script command's own `toWritable` (EVAL on first use per
 * socket, EVALSHA after) runs first and reaches this through `super`.
 */
export function useFastEncoding(command: Command): void {
  if (!installed) install();
  (command as unknown as EncodableCommand)[FAST_ENCODING] = true;
}

function install(): void {
  installed = true;
  const original = Command.prototype.toWritable;
  Command.prototype.toWritable = function toWritable(this: Command, socket: object) {
    const self = this as unknown as EncodableCommand;
    if (self[FAST_ENCODING] === true && self.bufferMode === true) {
      const encoded = encodeCommand(self.name, self.args);
      if (encoded !== undefined) return encoded;
    }
    return original.call(this, socket);
  };
}
