// A provider's stderr forwarded line by line: lines across chunks, CRLF, a last line without newline,
// and a line that never ends kept to a bounded size.
import { expect, test } from "bun:test";
import { forwardStderr, StderrTail } from "../../../src/runtime/provider-stderr.ts";

const encoder = new TextEncoder();

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function forward(chunks: (string | Uint8Array)[], lineBytes?: number) {
  const written: string[] = [];
  const tail = new StderrTail(3);
  await forwardStderr(streamOf(chunks), "[t/input]", tail, {
    ...(lineBytes ? { lineBytes } : {}),
    write: (line) => written.push(line),
  });
  return { written, tail: tail.snapshot() };
}

test.each([
  [["a\nb\n"], ["a", "b"]],
  [
    ["par", "tial\nnext", " line\n"],
    ["partial", "next line"],
  ],
  [
    ["crlf\r\n", "no newline at the end"],
    ["crlf", "no newline at the end"],
  ],
  [["\n"], [""]],
])("%j -> %j", async (chunks, lines) => {
  const { written } = await forward(chunks);
  expect(written).toEqual(lines.map((line) => `[t/input] ${line}`));
});

test("a multi-byte character split across chunks is decoded whole", async () => {
  const bytes = encoder.encode("né\n");
  const { written } = await forward([bytes.subarray(0, 2), bytes.subarray(2)]);
  expect(written).toEqual(["[t/input] né"]);
});

test("a line longer than the limit keeps its start and says how much was left out", async () => {
  const long = "x".repeat(1000);
  const { written, tail } = await forward([long, long, `${long}\nafter\n`], 100);
  expect(written).toEqual([
    `[t/input] ${"x".repeat(100)} … (2900 more bytes not shown)`,
    "[t/input] after",
  ]);
  expect(tail).toEqual([`${"x".repeat(100)} … (2900 more bytes not shown)`, "after"]);
});

test("the tail keeps the last lines only", async () => {
  const { tail } = await forward(["1\n2\n3\n4\n5\n"]);
  expect(tail).toEqual(["3", "4", "5"]);
});

test("control characters are escaped as in dstream's error lines; tabs and Unicode are kept", async () => {
  const { written, tail } = await forward([
    "error: bad\r\u001b[2Jthing\n",
    "col1\tcol2 « tâche » 注文\n",
    "bell\u0007 nul\u0000 c1\u0085 sep\u2028\n",
  ]);
  expect(written).toEqual([
    "[t/input] error: bad\\r\\u001b[2Jthing",
    "[t/input] col1\tcol2 « tâche » 注文",
    "[t/input] bell\\u0007 nul\\0 c1\\u0085 sep\\u2028",
  ]);
  // The tail keeps the words as written: the error report escapes them where it prints them.
  expect(tail[0]).toBe("error: bad\r\u001b[2Jthing");
});
