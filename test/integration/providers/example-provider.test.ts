// The example TypeScript provider (examples/provider-ts) compiled to its own executable and
// driven directly over protocol v1: output, config errors, lifecycle, SIGTERM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWordsProvider } from "../../../examples/provider-ts/build.ts";
import { ready, runToEnd, startProvider } from "./helpers.ts";

let folder = "";
let binary = "";
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "dstream-example-"));
  binary = join(folder, "words-provider");
  await buildWordsProvider(binary);
}, 120_000);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

test("emits each word as an envelope, then logs a count and exits 0", async () => {
  const result = await runToEnd([binary], {
    role: "input",
    config: { words: ["a", "b"], repeat: 2, upper: true },
  });
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(
    `${ready}{"data":{"word":"A","round":1},"metadata":{"provider":"words","sequence":1}}\n` +
      `{"data":{"word":"B","round":1},"metadata":{"provider":"words","sequence":2}}\n` +
      `{"data":{"word":"A","round":2},"metadata":{"provider":"words","sequence":3}}\n` +
      `{"data":{"word":"B","round":2},"metadata":{"provider":"words","sequence":4}}\n`,
  );
  expect(result.stderr).toBe("emitted 4 words\n");
});

test("refuses a bad config in the handshake", async () => {
  const result = await runToEnd([binary], { role: "input", config: { words: [] } });
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe('{"status":"error","message":"words: must hold at least one word"}\n');
  expect(result.stderr).toBe("error: invalid config: words: must hold at least one word\n");
});

test("answers plan from its hook and other lifecycle commands with the default", async () => {
  const plan = await runToEnd([binary], { command: "plan", config: { repeat: 3 } });
  expect(plan.stdout).toBe('{"status":"Success","message":"would emit 9 words","resources":[]}\n');
  const init = await runToEnd([binary], { command: "init" });
  expect(init.stdout).toBe('{"status":"Success","message":"nothing to do","resources":[]}\n');
});

test("stops between words on SIGTERM and exits 0", async () => {
  const words = startProvider([binary], { config: { interval: 50, repeat: 1000 } });
  await words.waitForLines(3);
  words.child.kill("SIGTERM");
  const result = await words.finish(5000);
  expect(result.exitCode).toBe(0);
  expect(result.stdout.endsWith("\n")).toBe(true);
  expect(result.stdout.split("\n").length).toBeLessThan(1000);
});
