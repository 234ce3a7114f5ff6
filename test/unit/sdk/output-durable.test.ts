// The output pump with a sink that reports durable lines: checkpoints wait for the lines before them,
// are looked at again on a timer without new input, and flush() is never called to acknowledge.
import { afterEach, describe, expect, test } from "bun:test";
import type { Batch } from "../../../src/sdk/batch.ts";
import {
  countLines,
  DurableCheckpoints,
  durableRecheckMs,
  flushIntervalMs,
  maxWaitingCheckpoints,
  pumpOutput,
} from "../../../src/sdk/output.ts";
import type { StdoutWriter } from "../../../src/sdk/stdout-writer.ts";
import type { OutputSink, ProviderContext } from "../../../src/sdk/types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (line: Uint8Array | undefined) => (line ? new TextDecoder().decode(line) : undefined);

describe("DurableCheckpoints", () => {
  test("takes the newest checkpoint whose preceding lines are all durable, and the older ones", () => {
    const waiting = new DurableCheckpoints();
    waiting.add(bytes("a"), 2);
    waiting.add(bytes("b"), 5);
    waiting.add(bytes("c"), 9);
    expect(text(waiting.takeDurable(1))).toBeUndefined();
    expect(text(waiting.takeDurable(6))).toBe("b");
    expect(text(waiting.takeDurable(6))).toBeUndefined();
    expect(text(waiting.last)).toBe("c");
    expect(text(waiting.takeDurable(9))).toBe("c");
    expect(waiting.waiting).toBe(false);
  });

  test("a checkpoint with no data since the last one replaces it", () => {
    const waiting = new DurableCheckpoints();
    waiting.add(bytes("a"), 3);
    waiting.add(bytes("b"), 3);
    expect(text(waiting.takeDurable(3))).toBe("b");
    expect(waiting.waiting).toBe(false);
  });

  test("is bounded: older ones are thinned, the newest always kept", () => {
    const waiting = new DurableCheckpoints();
    const count = maxWaitingCheckpoints * 3;
    for (let index = 1; index <= count; index++) waiting.add(bytes(String(index)), index);
    let held = 0;
    for (let durable = 1; durable <= count; durable++) if (waiting.takeDurable(durable)) held++;
    expect(held).toBeLessThanOrEqual(maxWaitingCheckpoints + 1);
    expect(held).toBeGreaterThan(maxWaitingCheckpoints / 2);
    expect(waiting.waiting).toBe(false);
  });
});

test("countLines counts newlines, and a last piece without one", () => {
  expect([countLines(bytes("")), countLines(bytes("a\n\nb\n")), countLines(bytes("a\nb"))]).toEqual(
    [0, 3, 2],
  );
});

/** Chunks handed to the pump as stdin would, pushed by the test. */
class Feed implements AsyncIterable<Uint8Array> {
  #chunks: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;

  push(chunk: string | null): void {
    this.#chunks.push(chunk === null ? null : bytes(chunk));
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk === null) return;
      if (chunk) yield chunk;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
});

function harness() {
  const echoed: string[] = [];
  const stdout = {
    write(line: Uint8Array | string) {
      echoed.push(typeof line === "string" ? line : new TextDecoder().decode(line));
      return undefined;
    },
    flush: async () => {},
  } as unknown as StdoutWriter;
  const stop = new AbortController();
  stops.push(stop);
  const context = {
    config: {},
    task: "",
    role: "output",
    signal: stop.signal,
    sleep: (ms: number) => Bun.sleep(ms),
    log: () => {},
    stdout,
    protocol: 2,
    checkpoint: null,
  } as ProviderContext<unknown>;
  const echoes = () => echoed.join("").split("\n").filter(Boolean);
  return { context, echoes };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`took too long: ${what}`);
    await Bun.sleep(5);
  }
}

const checkpoint = (value: number) => `{"checkpoint":${value}}\n`;

describe("pumpOutput with durableLines", () => {
  test.each(["write", "writeRaw"] as const)(
    "%s: a checkpoint waits for its lines, then is echoed on a timer with no new input; flush is never called",
    async (method) => {
      const { context, echoes } = harness();
      let given = 0;
      let durable = 0;
      let flushes = 0;
      const sink: OutputSink<unknown> = {
        ...(method === "write"
          ? {
              write: (batch: Batch) => {
                given += batch.size;
              },
            }
          : {
              writeRaw: (chunk: Uint8Array) => {
                given += countLines(chunk);
              },
            }),
        flush: () => void flushes++,
        durableLines: () => durable,
      };
      const feed = new Feed();
      const pumped = pumpOutput({
        sink,
        limits: undefined,
        data: feed,
        context,
        checkpoints: true,
      });

      feed.push(`a\nb\n${checkpoint(1)}c\n${checkpoint(2)}d\ne\n${checkpoint(3)}`);
      await waitFor(() => given === 5, "five lines given");
      await Bun.sleep(flushIntervalMs * 2);
      expect(echoes()).toEqual([]);

      // The sink completes lines by itself (an age limit): no input arrives, the echo still comes.
      durable = 3;
      await waitFor(() => echoes().length === 1, "an echo after durable lines");
      expect(echoes()).toEqual([checkpoint(2).trim()]);

      durable = 4;
      await Bun.sleep(durableRecheckMs * 3);
      expect(echoes()).toEqual([checkpoint(2).trim()]);

      durable = 5;
      await waitFor(() => echoes().length === 2, "the last echo");
      expect(echoes().at(-1)).toBe(checkpoint(3).trim());

      feed.push(`f\n${checkpoint(4)}`);
      feed.push(null);
      const result = await pumped;
      // Not durable yet: the caller echoes it after close().
      expect(text(result.unacknowledged)?.trim()).toBe(checkpoint(4).trim());
      expect(echoes()).toHaveLength(2);
      expect(flushes).toBe(0);
    },
  );

  test("while checkpoints wait, durableLines is asked on a timer, not in a busy loop", async () => {
    const { context } = harness();
    const askedAt: number[] = [];
    const sink: OutputSink<unknown> = {
      write: () => {},
      durableLines: () => {
        askedAt.push(Date.now());
        return 0;
      },
    };
    const feed = new Feed();
    const pumped = pumpOutput({ sink, limits: undefined, data: feed, context, checkpoints: true });
    feed.push(`a\n${checkpoint(1)}`);
    // Asked again with no new input: a timer does it.
    await waitFor(() => askedAt.length >= 4, "three asks after the first", 10_000);
    feed.push(null);
    await pumped;
    // Each ask at least durableRecheckMs after the one before, by the clock the pump reads: a busy
    // machine can only space them further apart, a busy loop would not space them at all.
    const gaps = askedAt.slice(1).map((at, index) => at - (askedAt[index] as number));
    expect(gaps.filter((gap) => gap < durableRecheckMs)).toEqual([]);
  }, 15_000);

  test("nothing waits: durableLines is not asked and the loop sleeps on stdin", async () => {
    const { context } = harness();
    let asked = 0;
    const sink: OutputSink<unknown> = {
      write: () => {},
      durableLines: () => {
        asked++;
        return 1;
      },
    };
    const feed = new Feed();
    const pumped = pumpOutput({ sink, limits: undefined, data: feed, context, checkpoints: true });
    feed.push(`a\n${checkpoint(1)}`);
    await Bun.sleep(300);
    const afterEcho = asked;
    await Bun.sleep(500);
    feed.push(null);
    await pumped;
    expect(afterEcho).toBe(1);
    expect(asked).toBe(1);
  });

  test("a sink without durableLines is flushed before each acknowledgement, as before", async () => {
    const { context, echoes } = harness();
    let flushes = 0;
    const sink: OutputSink<unknown> = { write: () => {}, flush: () => void flushes++ };
    const feed = new Feed();
    const pumped = pumpOutput({ sink, limits: undefined, data: feed, context, checkpoints: true });
    feed.push(`a\n${checkpoint(1)}`);
    await waitFor(() => echoes().length === 1, "an echo after a flush");
    expect(flushes).toBe(1);
    feed.push(null);
    expect((await pumped).unacknowledged).toBeUndefined();
  });
});
