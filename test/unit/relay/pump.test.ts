// LinePump, the streams relay's core, without processes: chunks in from a fake reader, bytes out to
// a fake sink; the counters, checkpoints forwarded, dropped or undecided, lines split across chunks,
// a line too long, a last line without newline, and a sink that makes it wait.
import { describe, expect, test } from "bun:test";
import {
  type CheckpointMode,
  checkpointModeFor,
  type RelayedCheckpoint,
} from "../../../src/relay/checkpoints.ts";
import { createCounterBuffer, readCounters } from "../../../src/relay/counters.ts";
import { LineTooLongError } from "../../../src/relay/line-framer.ts";
import {
  type ChunkReader,
  type ChunkSink,
  LinePump,
  type StreamCheckpoints,
} from "../../../src/relay/pump.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const checkpoint = (n: number) => `{"checkpoint":{"n":${n}}}\n`;

/** Hands over one batch per read; `beforeBatch` runs before each (e.g. to change the mode). */
function readerOf(batches: string[][], beforeBatch?: (index: number) => void): ChunkReader {
  let index = 0;
  return {
    readMany() {
      if (index >= batches.length) return { done: true, value: [] };
      beforeBatch?.(index);
      const batch = batches[index++] ?? [];
      return { done: false, value: batch.map((chunk) => encoder.encode(chunk)) };
    },
  };
}

/** Records what is written, and when, beside the checkpoints reported, in one log. */
class RecordingSink implements ChunkSink {
  readonly log: string[] = [];
  private readonly written: string[] = [];

  write(bytes: Uint8Array): number {
    const text = decoder.decode(bytes);
    this.written.push(text);
    this.log.push(`write ${text}`);
    return bytes.length;
  }

  flush(): number {
    return 0;
  }

  get text(): string {
    return this.written.join("");
  }
}

interface PumpRun {
  batches: string[][];
  maxLineBytes?: number;
  bufferBytes?: number;
  /** The output's protocol per batch, as the session decides it: 0 undecided, 1, 2. */
  protocols?: number[];
  endedCleanly?: boolean;
  sink?: ChunkSink;
}

async function pump(run: PumpRun) {
  const counters = createCounterBuffer();
  const subject = new LinePump(counters, {
    bufferBytes: run.bufferBytes ?? 1 << 20,
    maxLineBytes: run.maxLineBytes ?? 1 << 20,
  });
  const sink = run.sink ?? new RecordingSink();
  const reported: RelayedCheckpoint[] = [];
  let protocol = run.protocols?.[0] ?? 0;
  const checkpoints: StreamCheckpoints | undefined = run.protocols
    ? {
        mode: () => checkpointModeFor(protocol),
        report: (relayed) => {
          reported.push(relayed);
          if (sink instanceof RecordingSink) sink.log.push(`checkpoint ${relayed.value}`);
        },
      }
    : undefined;
  const reader = readerOf(run.batches, (index) => {
    protocol = run.protocols?.[index] ?? protocol;
  });
  let error: unknown;
  try {
    await subject.run(reader, sink, async () => run.endedCleanly ?? true, checkpoints);
  } catch (caught) {
    error = caught;
  }
  return { subject, sink, reported, error, counters: readCounters(counters) };
}

describe("LinePump", () => {
  test("relays lines byte for byte and counts them", async () => {
    const { sink, subject, counters, error } = await pump({ batches: [["a\nbb\n", "ccc\n"]] });
    expect(error).toBeUndefined();
    expect((sink as RecordingSink).text).toBe("a\nbb\nccc\n");
    expect(subject.progress()).toEqual({ lines: 3, inFlightBytes: 0, inFlightLines: 0 });
    expect(counters).toMatchObject({ lines: 3, bytes: 9, emptyLines: 0, buffered: 0, waits: 0 });
  });

  test("a line split across chunks and batches is joined once", async () => {
    const { sink, counters } = await pump({ batches: [["hel", "lo\nwor"], ["ld\n"]] });
    expect((sink as RecordingSink).text).toBe("hello\nworld\n");
    expect(counters.lines).toBe(2);
  });

  test("empty lines are dropped and counted", async () => {
    const { sink, counters } = await pump({ batches: [["a\n\n\r\nb\n"]] });
    expect((sink as RecordingSink).text).toBe("a\nb\n");
    expect(counters).toMatchObject({ lines: 2, bytes: 4, emptyLines: 2 });
  });

  test("a last line without newline from an input that ended cleanly gets one", async () => {
    const { sink, subject, counters } = await pump({ batches: [["a\nlast"]] });
    expect((sink as RecordingSink).text).toBe("a\nlast\n");
    expect(subject.cutLineBytes).toBe(0);
    expect(counters.lines).toBe(2);
  });

  test("a last line without newline from an input cut off is dropped and measured", async () => {
    const { sink, subject, counters } = await pump({
      batches: [["a\nhal"], ["f"]],
      endedCleanly: false,
    });
    expect((sink as RecordingSink).text).toBe("a\n");
    expect(subject.cutLineBytes).toBe(4);
    expect(counters.lines).toBe(1);
  });

  test.each<[string, string[][], number]>([
    ["within one chunk", [["ok\n0123456789\nafter\n"]], 2],
    ["split across chunks, never ended", [["ok\n01234"], ["56789"]], 2],
    ["split across chunks, then ended", [["ok\n0123"], ["456789\nafter\n"]], 2],
  ])(
    "a line over --max-line-bytes %s: the lines before it delivered, then it fails",
    async (_name, batches, lineNumber) => {
      const { sink, error, counters } = await pump({ batches, maxLineBytes: 8 });
      expect(error).toBeInstanceOf(LineTooLongError);
      expect((error as Error).message).toBe(
        `line ${lineNumber} is longer than --max-line-bytes (8 bytes)`,
      );
      expect((sink as RecordingSink).text).toBe("ok\n");
      expect(counters.lines).toBe(1);
    },
  );

  test("a v1 input's checkpoint-looking lines are data", async () => {
    const { sink, reported, counters } = await pump({ batches: [[`a\n${checkpoint(1)}`]] });
    expect((sink as RecordingSink).text).toBe(`a\n${checkpoint(1)}`);
    expect(reported).toEqual([]);
    expect(counters).toMatchObject({ lines: 2, checkpoints: 0 });
  });
});

describe("LinePump checkpoints", () => {
  const data = [[`a\n${checkpoint(1)}b\n`]];

  test.each<[string, number, CheckpointMode]>([
    ["undecided", 0, "undecided"],
    ["drop", 1, "drop"],
    ["forward", 2, "forward"],
  ])("checkpointModeFor(%s) is %s", (_name, protocol, mode) => {
    expect(checkpointModeFor(protocol)).toBe(mode);
  });

  test("forward (v2 output): in place, told before the write, its bytes not counted", async () => {
    const { sink, reported, counters } = await pump({ batches: data, protocols: [2] });
    const recording = sink as RecordingSink;
    expect(recording.text).toBe(`a\n${checkpoint(1)}b\n`);
    expect(recording.log).toEqual(['checkpoint {"n":1}', `write a\n${checkpoint(1)}b\n`]);
    expect(reported).toMatchObject([
      {
        line: checkpoint(1).trimEnd(),
        value: '{"n":1}',
        events: 1,
        forwarded: true,
        undecided: false,
      },
    ]);
    expect(counters).toMatchObject({ lines: 2, bytes: 4, checkpoints: 1 });
  });

  test.each<[string, number]>([
    ["drop (v1 output)", 1],
    ["undecided (protocol not known yet)", 0],
  ])("%s: cut out, reported once every line before it was written", async (_name, protocol) => {
    const { sink, reported, counters } = await pump({ batches: data, protocols: [protocol] });
    const recording = sink as RecordingSink;
    expect(recording.text).toBe("a\nb\n");
    expect(recording.log).toEqual(["write a\n", "write b\n", 'checkpoint {"n":1}']);
    expect(reported).toMatchObject([
      { value: '{"n":1}', events: 1, forwarded: false, undecided: protocol === 0 },
    ]);
    expect(counters).toMatchObject({ lines: 2, bytes: 4, checkpoints: 1 });
  });

  test("the mode follows the session's decision from one chunk to the next", async () => {
    const { sink, reported } = await pump({
      batches: [[`a\n${checkpoint(1)}`], [`b\n${checkpoint(2)}`]],
      protocols: [0, 2],
    });
    expect((sink as RecordingSink).text).toBe(`a\nb\n${checkpoint(2)}`);
    expect(
      reported.map(({ value, events, forwarded, undecided }) => [
        value,
        events,
        forwarded,
        undecided,
      ]),
    ).toEqual([
      ['{"n":1}', 1, false, true],
      ['{"n":2}', 2, true, false],
    ]);
  });

  test("a checkpoint line split across chunks is still told and forwarded whole", async () => {
    const line = checkpoint(7);
    const { sink, reported, counters } = await pump({
      batches: [[`a\n${line.slice(0, 5)}`], [line.slice(5)]],
      protocols: [2],
    });
    expect((sink as RecordingSink).text).toBe(`a\n${line}`);
    expect(reported).toMatchObject([{ value: '{"n":7}', events: 1, forwarded: true }]);
    expect(counters).toMatchObject({ lines: 1, bytes: 2, checkpoints: 1 });
  });

  test("a bad checkpoint line fails the pump after the lines before it", async () => {
    const { sink, error } = await pump({
      batches: [['a\n{"checkpoint":1,"extra":2}\nb\n']],
      protocols: [1],
    });
    expect((error as Error).message).toBe(
      'checkpoint line must hold only "checkpoint", got "checkpoint", "extra"',
    );
    expect((sink as RecordingSink).text).toBe("a\n");
  });
});

describe("LinePump backpressure", () => {
  test("writes the sink has not taken are in flight; reading pauses until they are", async () => {
    const releases: (() => void)[] = [];
    let written = "";
    let wrote: () => void = () => {};
    const firstWrite = new Promise<void>((resolve) => {
      wrote = resolve;
    });
    const sink: ChunkSink = {
      write(bytes) {
        written += decoder.decode(bytes);
        const taken = new Promise<number>((resolve) => releases.push(() => resolve(bytes.length)));
        wrote();
        return taken;
      },
      flush: () => 0,
    };
    const counters = createCounterBuffer();
    const subject = new LinePump(counters, { bufferBytes: 4, maxLineBytes: 1 << 20 });
    let reads = 0;
    const reader: ChunkReader = {
      readMany() {
        reads++;
        if (reads === 1) return { done: false, value: [encoder.encode("abcd\nef\n")] };
        return { done: true, value: [] };
      },
    };
    const running = subject.run(reader, sink, async () => true);
    await firstWrite;
    expect(subject.progress()).toEqual({ lines: 0, inFlightBytes: 8, inFlightLines: 2 });
    expect(readCounters(counters)).toMatchObject({ lines: 0, buffered: 8, waits: 1 });
    expect(reads).toBe(1);
    for (const release of releases) release();
    await running;
    expect(written).toBe("abcd\nef\n");
    expect(subject.progress()).toEqual({ lines: 2, inFlightBytes: 0, inFlightLines: 0 });
    expect(readCounters(counters)).toMatchObject({
      lines: 2,
      bytes: 8,
      buffered: 0,
      bufferedMax: 8,
    });
  });

  test("a sink that fails (the output closed) fails the pump", async () => {
    const sink: ChunkSink = {
      write: () => Promise.reject(new Error("EPIPE: broken pipe")),
      flush: () => 0,
    };
    const { error } = await pump({ batches: [["a\n"]], sink });
    expect((error as Error).message).toBe("EPIPE: broken pipe");
  });

  test("a sink whose pipe is gone answers a boolean (Bun's FileSink): the pump fails saying so", async () => {
    const sink = {
      write: () => false,
      flush: () => 0,
    } as unknown as ChunkSink;
    const { error } = await pump({ batches: [["a\n", "b\n"]], sink });
    expect((error as Error).message).toBe("it closed its stdin");
  });
});
