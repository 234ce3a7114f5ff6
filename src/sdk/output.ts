// Feeds an output's sink from stdin: whole-line raw chunks, or batches bounded by lines, bytes and wait.
// Protocol v2: checkpoint lines never reach the sink; each is echoed once what came before it is
// written (and flushed, for a sink that can flush; or reported durable, for a sink that says so).
import { TIMED_OUT, waitAtMost } from "../bounded-wait.ts";
import { isCheckpointLine } from "../protocol/index.ts";
import { Batch } from "./batch.ts";
import { LineSplitter, WholeLineCutter } from "./line-splitter.ts";
import { STOPPED, StopRace } from "./stop-race.ts";
import type { BatchLimits, OutputSink, ProviderContext } from "./types.ts";

export const defaultBatchLimits: Required<BatchLimits> = {
  maxLines: 1000,
  maxBytes: 1024 * 1024,
  maxWaitMs: 0,
};

/** A sink that can flush (fsync, broker acks) is flushed for an acknowledgement at most this often... */
export const flushIntervalMs = 100;
/** ...and any other acknowledges at most this often while data flows (at once when it was idle). */
export const ackIntervalMs = 20;

/** While checkpoints wait on a sink that reports durable lines, it is asked again this often. */
export const durableRecheckMs = flushIntervalMs;
/** Checkpoints waiting on durable lines kept at most (thinned beyond: acknowledgements get coarser). */
export const maxWaitingCheckpoints = 4096;

/** After a stop signal, stdin counts as drained once it has been quiet this long... */
export const stopIdleMs = 200;
/** ...and reading ends this long after the signal even if data keeps coming (inside stopGraceMs). */
export const stopDrainMs = 3000;

/** `promise`, raced against `ms` when a deadline is set. */
function raceTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
): Promise<T | typeof TIMED_OUT> {
  return ms === undefined ? promise : waitAtMost(promise, ms);
}

/** Milliseconds until the earliest deadline given, or undefined when there is none. */
function msUntilFirst(deadlines: (number | undefined)[]): number | undefined {
  const set = deadlines.filter((deadline) => deadline !== undefined);
  return set.length > 0 ? Math.min(...set) - Date.now() : undefined;
}

const CHECKPOINT_AFTER_NEWLINE = Buffer.from('\n{"checkpoint":');

/**
 * Cuts whole lines into data runs and checkpoint lines (with their \n), in order: a native search
 * for the prefix after a newline, so data lines cost nothing per line.
 */
export function splitCheckpoints(
  lines: Uint8Array,
  onData: (bytes: Uint8Array) => void,
  onCheckpoint: (line: Uint8Array) => void,
): void {
  const view = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
  let start = 0;
  while (start < view.length) {
    let at = isCheckpointLine(view, start) ? start : -1;
    if (at === -1) {
      const found = view.indexOf(CHECKPOINT_AFTER_NEWLINE, start);
      at = found === -1 ? -1 : found + 1;
    }
    if (at === -1) break;
    if (at > start) onData(lines.subarray(start, at));
    const newline = view.indexOf(10, at);
    const end = newline === -1 ? view.length : newline + 1;
    onCheckpoint(lines.subarray(at, end));
    start = end;
  }
  if (start < view.length) onData(lines.subarray(start));
}

/** Collects lines into batches; full batches (and checkpoint lines) wait in `ready` for the reader loop. */
class Batcher {
  readonly ready: (Batch | CheckpointLine)[] = [];
  #lines: Uint8Array[] = [];
  #bytes = 0;
  #nextLineNumber = 1;
  readonly #limits: Required<BatchLimits>;

  constructor(
    limits: Required<BatchLimits>,
    private readonly checkpoints: boolean,
  ) {
    this.#limits = limits;
  }

  get pending(): boolean {
    return this.#lines.length > 0;
  }

  add = (line: Uint8Array): void => {
    if (line.length === 0) return;
    if (this.checkpoints && isCheckpointLine(line, 0)) {
      // The batch before it goes out first: the checkpoint covers it.
      this.seal();
      this.ready.push(new CheckpointLine(line.slice()));
      return;
    }
    if (this.#lines.length > 0 && this.#bytes + line.length > this.#limits.maxBytes) this.seal();
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#lines.length >= this.#limits.maxLines) this.seal();
  };

  seal(): void {
    if (this.#lines.length === 0) return;
    this.ready.push(new Batch(this.#lines, this.#nextLineNumber, this.#bytes));
    this.#nextLineNumber += this.#lines.length;
    this.#lines = [];
    this.#bytes = 0;
  }
}

/** A checkpoint line as received, without its newline handling: echoed byte for byte. */
class CheckpointLine {
  constructor(readonly bytes: Uint8Array) {}
}

export interface OutputPumpOptions<C> {
  sink: OutputSink<C>;
  limits: BatchLimits | undefined;
  data: AsyncIterable<Uint8Array>;
  context: ProviderContext<C>;
  /** Protocol v2: checkpoint lines are taken out of the data and acknowledged on stdout. */
  checkpoints?: boolean;
}

export interface OutputPumpResult {
  /** The last checkpoint line not acknowledged yet: echoed once close() made everything durable. */
  unacknowledged: Uint8Array | undefined;
}

const NEWLINE_BYTES = Uint8Array.of(10);

/** Lines in a chunk of whole lines: its newlines, and a last piece without one. */
export function countLines(chunk: Uint8Array): number {
  let count = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) count++;
  return chunk.length > 0 && chunk[chunk.length - 1] !== 10 ? count + 1 : count;
}

/**
 * Checkpoint lines waiting for a sink's durable lines, each with how many data lines came before
 * it; the newest whose lines are all durable is taken (echoes are cumulative).
 */
export class DurableCheckpoints {
  #waiting: { line: Uint8Array; linesBefore: number }[] = [];

  get waiting(): boolean {
    return this.#waiting.length > 0;
  }

  /** The newest checkpoint not acknowledged yet: echoed after close(). */
  get last(): Uint8Array | undefined {
    return this.#waiting.at(-1)?.line;
  }

  add(line: Uint8Array, linesBefore: number): void {
    const last = this.#waiting.at(-1);
    // A later checkpoint with no data between covers the same lines: only the newest is needed.
    if (last && last.linesBefore === linesBefore) last.line = line;
    else this.#waiting.push({ line, linesBefore });
    if (this.#waiting.length > maxWaitingCheckpoints) {
      // Dropping some older ones only delays their acknowledgement to a later one: never wrong.
      const count = this.#waiting.length;
      this.#waiting = this.#waiting.filter((_, index) => index % 2 === 1 || index === count - 1);
    }
  }

  /** Takes the newest checkpoint with at most `durable` lines before it (and every older one). */
  takeDurable(durable: number): Uint8Array | undefined {
    let newest: Uint8Array | undefined;
    let taken = 0;
    for (const entry of this.#waiting) {
      if (entry.linesBefore > durable) break;
      newest = entry.line;
      taken++;
    }
    if (taken > 0) this.#waiting.splice(0, taken);
    return newest;
  }
}

/** Writes a checkpoint line back on stdout, unchanged, with its newline. */
export async function acknowledge<C>(line: Uint8Array, context: ProviderContext<C>): Promise<void> {
  const ends = line[line.length - 1] === 10;
  await context.stdout.write(line);
  if (!ends) await context.stdout.write(NEWLINE_BYTES);
  await context.stdout.flush();
}

/** Reads stdin to its end (or, after a stop signal, until it goes quiet) and feeds the sink. */
export async function pumpOutput<C>(options: OutputPumpOptions<C>): Promise<OutputPumpResult> {
  const { sink, data, context } = options;
  const limits = { ...defaultBatchLimits, ...options.limits };
  const checkpoints = options.checkpoints === true;
  const cutter = sink.writeRaw ? new WholeLineCutter() : undefined;
  const splitter = new LineSplitter();
  const batcher = new Batcher(limits, checkpoints);
  const stopRace = new StopRace(context.signal);
  let stopDeadline: number | undefined;
  let lastDataAt = Date.now();
  let batchDeadline: number | undefined;
  const durableLines = sink.durableLines && ((): number => sink.durableLines?.(context) ?? 0);
  const durable = durableLines ? new DurableCheckpoints() : undefined;
  const ackEveryMs = sink.flush && !durable ? flushIntervalMs : ackIntervalMs;
  let unacknowledged: Uint8Array | undefined;
  let lastAckAt = 0;
  let ackDeadline: number | undefined;
  let linesGiven = 0;

  /** Echoes the newest checkpoint whose lines the sink reports durable; asks again while any waits. */
  const acknowledgeDurable = async (
    checkpoints: DurableCheckpoints,
    countDurable: () => number,
    now: number,
  ) => {
    if (!checkpoints.waiting) {
      ackDeadline = undefined;
      return;
    }
    if (now < lastAckAt + ackEveryMs) {
      ackDeadline = lastAckAt + ackEveryMs;
      return;
    }
    const line = checkpoints.takeDurable(countDurable());
    if (line) {
      await acknowledge(line, context);
      lastAckAt = Date.now();
    }
    // A sink may complete data on its own timer (an age limit): look again without new input.
    ackDeadline = checkpoints.waiting ? Date.now() + durableRecheckMs : undefined;
  };
  /** A checkpoint line after the data lines given so far. */
  const holdCheckpoint = (line: Uint8Array) => {
    if (durable) durable.add(line, linesGiven);
    else unacknowledged = line;
  };

  /** Echoes the newest checkpoint once its data is durable; a flushing sink at most every interval. */
  const acknowledgeDue = async (now = Date.now()) => {
    if (durable && durableLines) return acknowledgeDurable(durable, durableLines, now);
    if (!unacknowledged) return;
    if (now < lastAckAt + ackEveryMs) {
      ackDeadline = lastAckAt + ackEveryMs;
      return;
    }
    const line = unacknowledged;
    unacknowledged = undefined;
    ackDeadline = undefined;
    await sink.flush?.(context);
    await acknowledge(line, context);
    lastAckAt = Date.now();
  };
  const deliverReady = async () => {
    for (let item = batcher.ready.shift(); item; item = batcher.ready.shift()) {
      if (item instanceof CheckpointLine) holdCheckpoint(item.bytes);
      else {
        linesGiven += item.size;
        await sink.write?.(item, context);
      }
    }
  };
  const writeRawLines = async (lines: Uint8Array) => {
    if (!checkpoints) return sink.writeRaw?.(lines, context);
    const runs: (Uint8Array | CheckpointLine)[] = [];
    splitCheckpoints(
      lines,
      (bytes) => runs.push(bytes),
      (line) => runs.push(new CheckpointLine(line.slice())),
    );
    for (const run of runs) {
      if (run instanceof CheckpointLine) holdCheckpoint(run.bytes);
      else {
        if (durable) linesGiven += countLines(run);
        await sink.writeRaw?.(run, context);
      }
    }
  };
  const consume = async (chunk: Uint8Array) => {
    if (cutter) {
      for (const lines of cutter.push(chunk)) await writeRawLines(lines);
      await acknowledgeDue();
      return;
    }
    splitter.push(chunk, batcher.add);
    const waitedEnough = batchDeadline !== undefined && Date.now() >= batchDeadline;
    if (batcher.pending && (limits.maxWaitMs <= 0 || waitedEnough)) batcher.seal();
    await deliverReady();
    if (!batcher.pending) batchDeadline = undefined;
    else batchDeadline ??= Date.now() + limits.maxWaitMs;
    await acknowledgeDue();
  };

  try {
    const iterator = data[Symbol.asyncIterator]();
    let next = iterator.next();
    for (;;) {
      if (context.signal.aborted && stopDeadline === undefined) {
        // Quiet time counts from the signal: what arrives right after it is still drained.
        lastDataAt = Date.now();
        stopDeadline = lastDataAt + stopDrainMs;
      }
      const wait = msUntilFirst([
        batchDeadline,
        ackDeadline,
        stopDeadline,
        stopDeadline === undefined ? undefined : lastDataAt + stopIdleMs,
      ]);
      const waitFor = stopDeadline === undefined ? stopRace.race(next) : next;
      const result = await raceTimeout(waitFor, wait);
      if (result === STOPPED) continue; // recompute the deadlines: draining has begun
      if (result === TIMED_OUT) {
        if (ackDeadline !== undefined && Date.now() >= ackDeadline) await acknowledgeDue();
        if (batchDeadline !== undefined && Date.now() >= batchDeadline) {
          batcher.seal();
          batchDeadline = undefined;
          await deliverReady();
        }
        if (stopDeadline !== undefined) {
          const now = Date.now();
          if (now >= stopDeadline || now >= lastDataAt + stopIdleMs) break;
        }
        continue;
      }
      if (result.done) break;
      lastDataAt = Date.now();
      await consume(result.value);
      // Read on only after consuming: an always-pending read makes Bun deliver many small chunks.
      next = iterator.next();
    }
  } finally {
    stopRace.dispose();
  }
  const last = cutter ? cutter.end() : splitter.end();
  if (cutter && last) await writeRawLines(last);
  if (!cutter && last) batcher.add(last);
  batcher.seal();
  await deliverReady();
  return { unacknowledged: durable ? durable.last : unacknowledged };
}
