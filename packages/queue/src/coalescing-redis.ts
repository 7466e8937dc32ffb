import type { Socket } from 'node:net';
import { type Command, Redis, type RedisOptions } from 'ioredis';

type WriteableStream = Parameters<Redis['sendCommand']>[1];

/**
 * An ioredis client that sends the commands issued during one turn of the
 * event loop in one socket write, instead of one write per command.
 *
 * ioredis writes each command to the socket as it is issued: under load, an
 * API process spent more CPU in those `write` system calls (one per enqueue,
 * ~20 µs each on the bench machine) than in any part of its own code. Here
 * the first command of a turn corks the socket and a `setImmediate` uncorks
 * it, so everything written in between (the commands of every request whose
 * bytes arrived in the same poll) leaves in one `writev`. An idle process
 * loses nothing: the immediate runs as soon as the current I/O callbacks are
 * done, before the loop waits again. Replies then also arrive together, so
 * Redis and ioredis each read once for many commands.
 *
 * Unlike ioredis's `enableAutoPipelining`, commands are not regrouped into
 * pipelines: each is sent exactly as it would be, in the same order on the
 * same connection (so `WAIT`, `MULTI` and scripts behave as before), and no
 * pipeline object is built per turn, which cost more than it saved here (see
 * docs/performance.md). Connections duplicated from this one (BullMQ's
 * blocking connection) are plain `Redis` clients.
 */
export class CoalescingRedis extends Redis {
  /** The socket corked for the current turn, if any. */
  #corked: Socket | undefined;

  constructor(options: RedisOptions) {
    // Replies in ioredis's default (legacy) shape, as every connection of the system reads them.
    super(options as RedisOptions & { replyMapping?: 'legacy' });
  }

  override sendCommand(command: Command, stream?: WriteableStream): unknown {
    if (stream === undefined && this.#corked === undefined && this.status === 'ready') {
      const socket = this.stream as Socket;
      if (socket.writable) {
        socket.cork();
        this.#corked = socket;
        setImmediate(() => {
          this.#corked = undefined;
          socket.uncork();
        });
      }
    }
    return super.sendCommand(command, stream);
  }
}
