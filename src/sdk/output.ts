// Feeds an output's sink from stdin: whole-line raw chunks, or batches bounded by lines, bytes and wait.
import { Batch } from "./batch.ts";
import { LineSplitter, WholeLineCutter } from "./line-splitter.ts";
import { STOPPED, StopRace } from "./stop-race.ts";
import type { BatchLimits, OutputSink, ProviderContext } from "./types.ts";

export const defaultBatchLimits: Required<BatchLimits> = {
  maxLines: 1000,
  maxBytes: 1024 * 1024,
  maxWaitMs: 0,
};

/** After a stop signal, stdin counts as drained once it has been quiet this long... */
export const stopIdleMs = 200;
/** ...and reading ends this long after the signal even if data keeps coming (inside stopGraceMs). */
export const stopDrainMs = 3000;

const TIMEOUT = Symbol("timeout");

function raceTimeout<T>(promise: Promise<T>, ms: number | undefined): Promise<T | typeof TIMEOUT> {
  if (ms === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Milliseconds until the earliest deadline given, or undefined when there is none. */
function msUntilFirst(deadlines: (number | undefined)[]): number | undefined {
  const set = deadlines.filter((deadline) => deadline !== undefined);
  return set.length > 0 ? Math.min(...set) - Date.now() : undefined;
}

/** Collects lines into batches; full batches wait in `ready` until the reader loop delivers them. */
class Batcher {
  readonly ready: Batch[] = [];
  #lines: Uint8Array[] = [];
  #bytes = 0;
  #nextLineNumber = 1;
  readonly #limits: Required<BatchLimits>;

  constructor(limits: Required<BatchLimits>) {
    this.#limits = limits;
  }

  get pending(): boolean {
    return this.#lines.length > 0;
  }

  add = (line: Uint8Array): void => {
    if (line.length === 0) return;
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

export interface OutputPumpOptions<C> {
  sink: OutputSink<C>;
  limits: BatchLimits | undefined;
  data: AsyncIterable<Uint8Array>;
  context: ProviderContext<C>;
}

/** Reads stdin to its end (or, after a stop signal, until it goes quiet) and feeds the sink. */
export async function pumpOutput<C>(options: OutputPumpOptions<C>): Promise<void> {
  const { sink, data, context } = options;
  const limits = { ...defaultBatchLimits, ...options.limits };
  const cutter = sink.writeRaw ? new WholeLineCutter() : undefined;
  const splitter = new LineSplitter();
  const batcher = new Batcher(limits);
  const stopRace = new StopRace(context.signal);
  let stopDeadline: number | undefined;
  let lastDataAt = Date.now();
  let batchDeadline: number | undefined;

  const deliverReady = async () => {
    for (let batch = batcher.ready.shift(); batch; batch = batcher.ready.shift()) {
      await sink.write?.(batch, context);
    }
  };
  const consume = async (chunk: Uint8Array) => {
    if (cutter) {
      for (const lines of cutter.push(chunk)) await sink.writeRaw?.(lines, context);
      return;
    }
    splitter.push(chunk, batcher.add);
    const waitedEnough = batchDeadline !== undefined && Date.now() >= batchDeadline;
    if (batcher.pending && (limits.maxWaitMs <= 0 || waitedEnough)) batcher.seal();
    await deliverReady();
    if (!batcher.pending) batchDeadline = undefined;
    else batchDeadline ??= Date.now() + limits.maxWaitMs;
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
        stopDeadline,
        stopDeadline === undefined ? undefined : lastDataAt + stopIdleMs,
      ]);
      const waitFor = stopDeadline === undefined ? stopRace.race(next) : next;
      const result = await raceTimeout(waitFor, wait);
      if (result === STOPPED) continue; // recompute the deadlines: draining has begun
      if (result === TIMEOUT) {
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
  if (cutter && last) await sink.writeRaw?.(last, context);
  if (!cutter && last) batcher.add(last);
  batcher.seal();
  await deliverReady();
}
