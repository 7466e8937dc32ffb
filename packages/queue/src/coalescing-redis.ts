import type { Socket } from 'node:net';
import { type Command, Redis, type RedisOptions } from 'ioredis';
import { useFastEncoding } from './resp-encoding.js';
import { type CommandClass, cheaplyFlattened } from './script-commands.js';

type WriteableStream = Parameters<Redis['sendCommand']>[1];

/**
 * Most commands held back for one write. A busy poll (dozens of requests
 * arriving together) used to leave in one write at the end of its turn, so
 * Redis sat idle while the API worked through the poll and the API then sat
 * idle waiting for the replies (at saturation the API used ~88% of its core).
 * Writing every 8 commands lets Redis answer the first while the API parses the
 * rest, and still saves 7 of every 8 system calls: ~20% more enqueues/s on the
 * bench (2, 4, 12 and 16 measured within noise of 8).
 */
export const COMMANDS_PER_WRITE = 8;

/** How a {@link CoalescingRedis} holds commands back. */
export interface CoalescingOptions {
  /**
   * Hold commands back only while at least this many earlier ones await their
   * replies; with fewer, each is written at once. For a worker (16): its
   * commands form a closed loop (each task's `moveToFinished` waits for its
   * reply before that slot takes the next task), and holding them with few in
   * flight gathered them into convoys, Redis idle while the worker finished
   * its turn and the worker idle while Redis answered the lot (a drain at
   * concurrency 10 ran 22–30% slower than on a plain client). With 16 or more
   * in flight Redis has work queued while a turn's commands gather: a drain at
   * concurrency 50 ran 4–13% faster than on a plain client (medians of seven
   * alternating rounds, two runs), and one at 10 or less never holds anything
   * back. @defaultValue 0 (always: the API)
   */
  holdFromInFlight?: number;
}

/** The commands issued in one turn of the event loop, and when the turn began (monotonic ms). */
interface Turn {
  at: number;
  commands: Command[];
}

/**
 * An ioredis client that sends the commands issued during one turn of the
 * event loop together, in writes of up to {@link COMMANDS_PER_WRITE}
 * commands, instead of one write per command.
 *
 * ioredis writes each command to the socket as it is issued: under load, an
 * API process spent more CPU in those `write` system calls (one per enqueue,
 * ~20 µs each on the bench machine) than in any part of its own code. Here
 * the first command of a turn corks the socket and a `setImmediate` uncorks
 * it, so everything written in between (the commands of every request whose
 * bytes arrived in the same poll) leaves in one `writev`, or in one per
 * {@link COMMANDS_PER_WRITE} commands when there are more. An idle process
 * loses nothing: the immediate runs as soon as the current I/O callbacks are
 * done, before the loop waits again. Replies then also arrive together, so
 * Redis and ioredis each read once for many commands. A worker's connection
 * holds commands back only while {@link CoalescingOptions.holdFromInFlight}
 * earlier ones await replies; below that, each is written at once.
 *
 * Unlike ioredis's `enableAutoPipelining`, commands are not regrouped into
 * pipelines: each is sent exactly as it would be, in the same order on the
 * same connection (so `WAIT`, `MULTI` and scripts behave as before), and no
 * pipeline object is built per turn, which cost more than it saved here (see
 * docs/performance.md).
 *
 * Commands carrying a `Buffer` (BullMQ's scripts) are encoded by
 * `encodeCommand` (resp-encoding.ts): the same bytes as ioredis's, in less
 * than half its time; and a script's commands are built without `Array#flat`
 * (see `defineCommand`).
 *
 * `commandTimeout` is kept per turn too. ioredis starts a timer for every
 * command (and then deletes its handle from the command, which turns the
 * command into a slow dictionary object): 500 timers for a bulk enqueue of
 * 500 tasks. Here a command still fails with ioredis's `Command timed out`
 * once it has had no answer for `commandTimeout` (up to one more
 * `commandTimeout` later, at worst), but one timer watches the oldest turn
 * whose commands are not all answered. Connections duplicated from this one
 * (BullMQ's blocking connection) are plain `Redis` clients, with ioredis's
 * own `commandTimeout`.
 */
export class CoalescingRedis extends Redis {
  /** The socket corked for the current turn, if any. */
  #corked: Socket | undefined;
  /** Commands written to the corked socket since it was last flushed. */
  #held = 0;
  /** `commandTimeout`, kept here rather than in ioredis's options. */
  readonly #timeoutMs: number | undefined;
  readonly #holdFromInFlight: number;
  /** The current turn, from its first held or timed command until its immediate runs. */
  #turn: Turn | undefined;
  /** Turns with commands not answered yet (the current one included), oldest first. */
  #turns: Turn[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RedisOptions, coalescing: CoalescingOptions = {}) {
    const holdFromInFlight = coalescing.holdFromInFlight ?? 0;
    if (!(Number.isInteger(holdFromInFlight) && holdFromInFlight >= 0))
      throw new RangeError(`holdFromInFlight must be a whole number >= 0, got ${holdFromInFlight}`);
    const { commandTimeout, ...rest } = options;
    // Replies in ioredis's default (legacy) shape, as every connection of the system reads them.
    super(rest as RedisOptions & { replyMapping?: 'legacy' });
    this.#timeoutMs = commandTimeout;
    this.#holdFromInFlight = holdFromInFlight;
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new Redis({ ...this.options, commandTimeout: this.#timeoutMs, ...override });
  }

  /**
   * ioredis's `defineCommand` (BullMQ defines its scripts with it), with the
   * script's commands built by {@link cheaplyFlattened}: the same commands,
   * ~1 µs cheaper each.
   */
  override defineCommand(name: string, definition: Parameters<Redis['defineCommand']>[1]): void {
    super.defineCommand(name, definition);
    const script = (this as unknown as { scriptsSet: Record<string, { Command: CommandClass } | undefined> })
      .scriptsSet[name];
    if (script) script.Command = cheaplyFlattened(script.Command);
  }

  override sendCommand(command: Command, stream?: WriteableStream): unknown {
    useFastEncoding(command);
    const hold =
      stream === undefined &&
      this.#corked === undefined &&
      this.status === 'ready' &&
      this.commandQueue.length >= this.#holdFromInFlight;
    // A turn is needed only to uncork at its end or to time its commands: a worker's
    // connection with few commands in flight writes each at once and keeps no turn.
    if (hold || this.#timeoutMs !== undefined) {
      let turn = this.#turn;
      if (turn === undefined) {
        turn = this.#turn = { at: performance.now(), commands: [] };
        setImmediate(CoalescingRedis.#endTurn, this);
        if (this.#timeoutMs !== undefined) this.#watch(turn);
      }
      if (this.#timeoutMs !== undefined) turn.commands.push(command);
    }
    if (hold) {
      const socket = this.stream as Socket;
      if (socket.writable) {
        socket.cork();
        this.#corked = socket;
      }
    }
    const sent = super.sendCommand(command, stream);
    const corked = this.#corked;
    // A pipeline's commands (`stream` given) reach the socket in one write of the pipeline's own.
    if (stream === undefined && corked !== undefined && ++this.#held >= COMMANDS_PER_WRITE) {
      // Flush what is held (one writev) and go on holding for the rest of the turn.
      this.#held = 0;
      corked.uncork();
      corked.cork();
    }
    return sent;
  }

  /** Called by the turn's immediate: its writes leave (uncork) and its commands are complete. */
  static #endTurn(self: CoalescingRedis): void {
    self.#turn = undefined;
    const socket = self.#corked;
    if (socket !== undefined) {
      self.#corked = undefined;
      self.#held = 0;
      socket.uncork();
    }
  }

  /** Starts watching a new turn, after dropping the turns before it whose commands are all answered. */
  #watch(turn: Turn): void {
    this.#drop(Number.NEGATIVE_INFINITY);
    this.#turns.push(turn);
    this.#arm();
  }

  #arm(): void {
    const oldest = this.#turns[0];
    if (this.#timer !== undefined || oldest === undefined) return;
    this.#timer = setTimeout(
      CoalescingRedis.#expire,
      Math.max(0, oldest.at + this.#timeoutMs! - performance.now()),
      this,
    );
    this.#timer.unref();
  }

  static #expire(self: CoalescingRedis): void {
    self.#timer = undefined;
    self.#drop(performance.now() - self.#timeoutMs!);
    self.#arm();
  }

  /**
   * Drops the leading turns whose commands are all answered; a turn begun at
   * or before `due` is dropped too, its unanswered commands failed first, as
   * ioredis's timer would fail them.
   */
  #drop(due: number): void {
    let i = 0;
    for (; i < this.#turns.length; i++) {
      const turn = this.#turns[i]!;
      if (turn.commands.every(isSettled)) continue;
      if (turn.at > due) break;
      for (const command of turn.commands)
        if (!command.isSettled) command.reject(new Error('Command timed out'));
    }
    if (i > 0) this.#turns.splice(0, i);
  }
}

const isSettled = (command: Command) => command.isSettled;
