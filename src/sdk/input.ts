// Writes what an input yields to stdout: envelopes serialised in batches, byte chunks as they come,
// and (protocol v2) checkpoint lines at line ends, at the cadence the schedule sets.
import { waitAtMost } from "../bounded-wait.ts";
import type { Envelope } from "../protocol/index.ts";
import { Checkpoint, type CheckpointCadence, CheckpointSchedule } from "./checkpoint.ts";
import { copyFileRange, FileRange } from "./file-range.ts";
import { STOPPED, StopRace } from "./stop-race.ts";
import type { InputItem, ProviderContext } from "./types.ts";

/** Serialised lines are gathered up to this size before one write to stdout. */
export const inputFlushBytes = 64 * 1024;
/** After a stop, how long the input may take to finish its current line and clean up. */
export const inputStopGraceMs = 1000;

const NEWLINE = 10;
const newlineBytes = Uint8Array.of(NEWLINE);

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface InputPumpOptions {
  /** Protocol v2: checkpoint lines go out at this cadence; v1 drops the positions given. */
  checkpoints?: CheckpointCadence | undefined;
}

/** An envelope's own position rides beside it: it is written as a checkpoint line, not as data. */
function withoutCheckpoint(envelope: Envelope & { checkpoint?: unknown }): Envelope {
  const { checkpoint: _position, ...event } = envelope;
  return event;
}

/** Pulls items until the source ends or the stop signal fires, then flushes stdout. */
export async function pumpInput<C>(
  source: AsyncIterable<InputItem> | Iterable<InputItem>,
  context: ProviderContext<C>,
  options: InputPumpOptions = {},
): Promise<void> {
  const { stdout, signal } = context;
  const iterator: AsyncIterator<InputItem> | Iterator<InputItem> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let pending = "";
  let flushScheduled = false;
  // Whether the bytes written so far end a line: a stop must not cut a raw line in half.
  let atLineEnd = true;

  const writeBytes = async (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    // Set before the write: a checkpoint due meanwhile must wait for the line's end.
    atLineEnd = bytes[bytes.length - 1] === NEWLINE;
    await stdout.write(bytes);
  };
  const flushPending = async () => {
    if (pending.length === 0) return;
    const text = pending;
    pending = "";
    await stdout.write(text);
  };
  // A checkpoint line is due; it goes out at the next line end (a raw chunk may end mid-line).
  let checkpointDue = false;
  // Bytes went out whose position has not come yet (the Checkpoint the source gives after them):
  // a due checkpoint waits for it, or an older position would follow bytes it does not cover.
  let awaitingPosition = false;
  let bytesSinceYield = 0;
  const takeDueCheckpoint = (final = false) => {
    if (!checkpointDue || !atLineEnd || !schedule || (awaitingPosition && !final)) return;
    checkpointDue = false;
    const line = schedule.take();
    if (line) pending += line;
  };
  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      takeDueCheckpoint();
      // Errors surface on the next synchronous write or the final flush.
      flushPending().catch(() => {});
    });
  };
  const schedule = options.checkpoints
    ? new CheckpointSchedule(options.checkpoints, () => {
        checkpointDue = true;
        scheduleFlush();
      })
    : undefined;
  const emit = async (item: InputItem) => {
    if (item instanceof Checkpoint) {
      awaitingPosition = false;
      if (schedule?.update(item.value)) checkpointDue = true;
      takeDueCheckpoint();
      return scheduleFlush();
    }
    if (item instanceof Uint8Array) {
      if (item.length === 0) return;
      awaitingPosition = true;
      await flushPending();
      await writeBytes(item);
      bytesSinceYield += item.length;
      if (bytesSinceYield < inputFlushBytes) return;
      bytesSinceYield = 0;
      // As for events: a source that never waits must still let SIGTERM through.
      await yieldToEventLoop();
      return;
    }
    if (item instanceof FileRange) {
      if (item.end <= item.start) return;
      awaitingPosition = true;
      await flushPending();
      // The kernel writes to stdout directly: nothing else may be written until it is done.
      atLineEnd = false;
      await copyFileRange(item, stdout);
      atLineEnd = item.endsLine;
      return;
    }
    if (!atLineEnd) await writeBytes(newlineBytes);
    if ("checkpoint" in item) {
      pending += `${JSON.stringify(withoutCheckpoint(item))}\n`;
      awaitingPosition = false;
      if (schedule?.update(item.checkpoint)) checkpointDue = true;
    } else {
      pending += `${JSON.stringify(item)}\n`;
    }
    if (schedule?.countEvent()) checkpointDue = true;
    takeDueCheckpoint();
    if (pending.length < inputFlushBytes) return scheduleFlush();
    await flushPending();
    // A producer that never awaits a timer must still let SIGTERM and pipe events through.
    await yieldToEventLoop();
  };

  const finish = async () => {
    await flushPending();
    if (!atLineEnd) await writeBytes(newlineBytes);
    // The final checkpoint: a restart resumes after everything written above (or, when bytes
    // went out whose position never came, from the newest position given: they come again).
    checkpointDue = true;
    takeDueCheckpoint(true);
    await flushPending();
    await stdout.flush();
  };

  const stopRace = new StopRace(signal);
  let step: Promise<IteratorResult<InputItem>> | undefined;
  try {
    // Checked first: a source that resolves at once would otherwise always win the race.
    while (!signal.aborted) {
      step = Promise.resolve(iterator.next());
      const result = await stopRace.race(step);
      if (result === STOPPED || result.done) break;
      step = undefined;
      await emit(result.value);
    }
    if (signal.aborted && !atLineEnd)
      await waitAtMost(finishLine(step, iterator, writeBytes), inputStopGraceMs);
    else if (signal.aborted && awaitingPosition) {
      // Stopped after bytes went out whole (say, while their write waited on a full pipe): the
      // source's next item is most likely their position; without it the final checkpoint would
      // leave them to come again. Nothing else is written after the stop.
      await waitAtMost(takePosition(step, iterator, emit), inputStopGraceMs);
    }
  } catch (error) {
    // What the source produced before failing still goes out; the source's error is the one told.
    await finish().catch(() => {});
    throw error;
  } finally {
    stopRace.dispose();
    schedule?.dispose();
    if (signal.aborted) await waitAtMost(Promise.resolve(iterator.return?.()), inputStopGraceMs);
  }
  await finish();
}

/** After a stop: the source's next item, when it is a position (the one after the bytes written). */
async function takePosition(
  pendingStep: Promise<IteratorResult<InputItem>> | undefined,
  iterator: AsyncIterator<InputItem> | Iterator<InputItem>,
  emit: (item: InputItem) => Promise<void>,
): Promise<void> {
  const result = await (pendingStep ?? iterator.next());
  if (!result.done && result.value instanceof Checkpoint) await emit(result.value);
}

/** After a stop mid-line on the raw path: write up to the end of the current line. */
async function finishLine(
  pendingStep: Promise<IteratorResult<InputItem>> | undefined,
  iterator: AsyncIterator<InputItem> | Iterator<InputItem>,
  writeBytes: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  for (let step = pendingStep; ; step = undefined) {
    const result = await (step ?? iterator.next());
    if (result.done || !(result.value instanceof Uint8Array)) return;
    const newline = result.value.indexOf(NEWLINE);
    if (newline !== -1) return writeBytes(result.value.subarray(0, newline + 1));
    await writeBytes(result.value);
  }
}
