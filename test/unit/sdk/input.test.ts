// The input pump with sources that write their own lines (bytes) and give the position after them
// (a Checkpoint item), as the kafka, nats and file inputs do: under backpressure, a checkpoint line
// never follows bytes its position does not cover, and a stop keeps the position after the last.
// Also oneLineJson, which those inputs make their lines with, and parseKeepingNumbers (http-poll).
import { describe, expect, test } from "bun:test";
import {
  Checkpoint,
  type InputItem,
  type ProviderContext,
  type StdoutWriter,
} from "../../../src/sdk/index.ts";
import { pumpInput } from "../../../src/sdk/input.ts";
import { oneLineJson, parseKeepingNumbers } from "../../../src/sdk/json-text.ts";

/** A stdout whose byte writes wait `slowMs` each (a full pipe); strings go at once. */
function slowStdout(slowMs: number, onWrite: (written: number) => void = () => {}) {
  let text = "";
  let writes = 0;
  const stdout = {
    write(bytes: Uint8Array | string) {
      text += typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
      if (typeof bytes === "string") return undefined;
      onWrite(++writes);
      return Bun.sleep(slowMs);
    },
    flush: () => Promise.resolve(),
  };
  return { stdout: stdout as unknown as StdoutWriter, text: () => text };
}

function context(stdout: StdoutWriter, signal: AbortSignal): ProviderContext<unknown> {
  return {
    config: {},
    task: "t",
    role: "input",
    signal,
    sleep: (ms) => Bun.sleep(ms),
    log: () => {},
    stdout,
    protocol: 2,
    checkpoint: null,
  };
}

/** Chunks of two lines each, every one followed by the position after it (its number). */
async function* chunks(count: number): AsyncGenerator<InputItem> {
  for (let chunk = 1; chunk <= count; chunk++) {
    yield new TextEncoder().encode(`{"n":${2 * chunk - 1}}\n{"n":${2 * chunk}}\n`);
    yield new Checkpoint(chunk);
  }
}

/** For each checkpoint line, the data lines before it; and the last checkpoint's value. */
function checkpoints(text: string): { before: number[]; last: unknown } {
  const before: number[] = [];
  let lines = 0;
  let last: unknown;
  for (const line of text.split("\n").filter((line) => line !== "")) {
    if (line.startsWith('{"checkpoint"')) {
      last = JSON.parse(line).checkpoint;
      before.push(lines);
    } else lines++;
  }
  return { before, last };
}

describe("pumpInput: bytes and the positions after them", () => {
  test("a checkpoint due while bytes wait on a full pipe waits for their position", async () => {
    const { stdout, text } = slowStdout(15);
    const controller = new AbortController();
    await pumpInput(chunks(12), context(stdout, controller.signal), { checkpoints: { ms: 5 } });
    const { before, last } = checkpoints(text());
    expect(before.length).toBeGreaterThan(2);
    // Chunk k is two lines: a checkpoint k follows exactly 2k data lines.
    const values = text()
      .split("\n")
      .filter((line) => line.startsWith('{"checkpoint"'))
      .map((line) => JSON.parse(line).checkpoint as number);
    expect(before).toEqual(values.map((value) => 2 * value));
    expect(last).toBe(12);
  });

  test("a stop while bytes wait on a full pipe: the final checkpoint covers them", async () => {
    const controller = new AbortController();
    // The stop comes while the third chunk's bytes are being written.
    const { stdout, text } = slowStdout(40, (written) => {
      if (written === 3) setTimeout(() => controller.abort(), 10);
    });
    await pumpInput(chunks(100), context(stdout, controller.signal), { checkpoints: {} });
    const lines = text()
      .split("\n")
      .filter((line) => line !== "");
    expect(lines.filter((line) => line.startsWith('{"n"'))).toHaveLength(6);
    expect(lines.at(-1)).toBe('{"checkpoint":3}');
  });
});

describe("oneLineJson", () => {
  test("a JSON text as one line, kept as written; not JSON: undefined", () => {
    expect(oneLineJson('{"id": 9007199254740993, "v": 1.50}')).toBe(
      '{"id": 9007199254740993, "v": 1.50}',
    );
    expect(oneLineJson('{\r\n  "a": [1,\n2],\r"b": "x\\ny"\n}')).toBe(
      '{    "a": [1, 2], "b": "x\\ny" }',
    );
    for (const text of ["", "{oops", "\uFEFF1", '"a\nb"'])
      expect(oneLineJson(text)).toBeUndefined();
  });
});

describe("parseKeepingNumbers", () => {
  test("numbers a double would round are written back as sent; a text without them: undefined", () => {
    const parsed = parseKeepingNumbers(
      '{"id": 12345678901234567890, "v": 1.50, "n": 3, "huge": 1e400, "s": "12345678901234567"}',
    ) as Record<string, unknown>;
    expect(JSON.stringify(parsed)).toBe(
      '{"id":12345678901234567890,"v":1.50,"n":3,"huge":1e400,"s":"12345678901234567"}',
    );
    expect(String(parsed.id)).toBe("12345678901234567890");
    expect(parseKeepingNumbers('{"id": 123456789012345, "v": 1.5}')).toBeUndefined();
  });
});
