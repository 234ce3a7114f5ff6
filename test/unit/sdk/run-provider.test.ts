// The SDK end to end, in real processes: batching by lines and by wait, lifecycle hooks,
// raw and envelope items mixed, and failures inside author code.
import { expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ready, runToEnd, startProvider } from "../../integration/providers/helpers.ts";

const fixture = (name: string) => [process.execPath, join(import.meta.dir, "fixtures", name)];

function withLimits(limits: object): string[] {
  return ["env", `BATCH_LIMITS=${JSON.stringify(limits)}`, ...fixture("batch-echo.ts")];
}

test("batches are cut at maxLines, numbered by stream position", async () => {
  const result = await runToEnd(withLimits({ maxLines: 3 }), {
    input: "a\nb\nc\nd\n\ne\nf\ng",
  });
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(`${ready}batch from 1: a,b,c\nbatch from 4: d,e,f\nbatch from 7: g\n`);
});

test("batches are cut at maxBytes (a longer line goes alone)", async () => {
  const result = await runToEnd(withLimits({ maxBytes: 4 }), { input: "ab\ncd\nlonger\ne\n" });
  expect(result.stdout).toBe(
    `${ready}batch from 1: ab,cd\nbatch from 3: longer\nbatch from 4: e\n`,
  );
});

test("maxWaitMs gathers lines that arrive apart into one batch", async () => {
  const output = startProvider(withLimits({ maxWaitMs: 400 }));
  await output.waitForLines(1);
  output.write("a\n");
  await Bun.sleep(100);
  output.write("b\n");
  await output.waitForLines(2);
  output.write("c\n");
  output.end();
  const result = await output.finish();
  expect(result.stdout).toBe(`${ready}batch from 1: a,b\nbatch from 3: c\n`);
});

test("an error thrown by write ends the provider: exit 1, the message on stderr", async () => {
  const result = await runToEnd(withLimits({ maxLines: 1 }), {
    config: { failOn: "b" },
    input: "a\nb\nc\n",
  });
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe(`${ready}batch from 1: a\n`);
  expect(result.stderr).toBe("error: refusing b\n");
});

test("raw chunks and envelopes mix; a raw piece without a newline gets one", async () => {
  const result = await runToEnd(fixture("hooks-input.ts"), {});
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(
    `${ready}{"data":"raw"}\n{"data":"raw without newline"}\n{"data":{"n":1}}\n` +
      `{"data":{"n":2},"metadata":{"table":"t"}}\n`,
  );
});

test("an error thrown by the generator: what came before is kept, exit 1", async () => {
  const result = await runToEnd(fixture("hooks-input.ts"), { config: { failAfter: 1 } });
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe(
    `${ready}{"data":"raw"}\n{"data":"raw without newline"}\n{"data":{"n":1}}\n`,
  );
  expect(result.stderr).toBe("error: source went away\n");
});

test.each([
  ["init", 0, { status: "Success", message: "nothing to do", resources: [] }],
  ["plan", 0, { status: "Success", message: "would create 1 table", resources: [{ table: "t" }] }],
  ["status", 1, { status: "Failed", message: "table t is missing", resources: [] }],
  ["destroy", 1, { status: "Failed", message: "cannot reach the database", resources: [] }],
])("lifecycle %s -> exit %d, %j", async (command, exitCode, line) => {
  const result = await runToEnd(fixture("hooks-input.ts"), { command });
  expect(result.exitCode).toBe(exitCode);
  expect(result.stdout).toBe(`${JSON.stringify(line)}\n`);
});

test("a lifecycle command with a bad config answers Failed with the problem", async () => {
  const result = await runToEnd(fixture("hooks-input.ts"), {
    command: "plan",
    config: { failAfter: "x" },
  });
  expect(result.exitCode).toBe(1);
  expect(JSON.parse(result.stdout)).toEqual({
    status: "Failed",
    message: 'failAfter: Invalid type: Expected number but received "x"',
    resources: [],
  });
});

test("an input may return a ReadableStream of JSON lines: passed through byte for byte", async () => {
  const content = '{"data":1}\n{"data" : 2}';
  const path = join(tmpdir(), `dstream-stream-input-${process.pid}.jsonl`);
  writeFileSync(path, content);
  try {
    const result = await runToEnd(fixture("stream-input.ts"), { config: { path } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}${content}\n`);
  } finally {
    rmSync(path, { force: true });
  }
});
