// Provider faults: killed, exiting early or non-zero, never reading, ignoring SIGTERM, and dstream
// itself killed. Each ends with its documented exit code, one error line saying why, no provider
// process left behind and no hang (every run is bounded and killed if it overruns).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import {
  numberedLines,
  providerPids,
  recorded,
  relays,
  sleep,
  survivors,
  waitForFile,
} from "./harness.ts";
import {
  deafProvider,
  faultPipelines,
  numberedInput,
  recorder,
  recordingOutput,
} from "./pipelines.ts";

/** What an output that died or exited left unread in its stdin, said on raw pipes (Linux). */
const UNREAD = "(?:; the (?:killed )?output had not read [\\d.]+ (?:B|KiB|MiB) of its stdin)?";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** The record holds lines 1..k in order, then at most one line cut short by the killed input. */
function expectNumberedPrefix(text: string): number {
  // dstream ends a last line without newline with one, a cut one included.
  expect(text === "" || text.endsWith("\n")).toBe(true);
  const lines = text.split("\n").slice(0, -1);
  const last = lines.at(-1) ?? "";
  const cut = last !== "" && !last.endsWith("}}");
  const count = cut ? lines.length - 1 : lines.length;
  const whole = numberedLines(count);
  expect(text.slice(0, whole.length)).toBe(whole);
  if (cut) expect(numberedLines(count + 1).slice(whole.length)).toStartWith(last);
  return count;
}

describe.each(relays)("%s relay", (relay, relayEnv) => {
  const { pipeline, start } = faultPipelines(() => workspace, relay, relayEnv);
  /** What a killed output left unread is measured on raw pipes (Linux), not on Bun's sockets. */
  const unread = (size: string) =>
    relay === "raw pipes" ? `; the killed output had not read ${size} of its stdin` : "";

  describe("a provider dies or misbehaves mid-stream", () => {
    test("kill -9 of the input: exit 1, names the signal; what it sent was delivered", async () => {
      const run = pipeline("kill-input", { path: numberedInput }, recorder());
      const started = start(run);
      await waitForFile(`${run.folder}/input.pid`);
      await sleep(300);
      process.kill(providerPids(run).input ?? 0, "SIGKILL");
      const result = await started.finished;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: task "t": input provider ${numberedInput} was killed by SIGKILL \\(\\d+ lines relayed, 0 in flight\\)\\n$`,
        ),
      );
      expect(expectNumberedPrefix(recorded(run))).toBeGreaterThan(0);
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("kill -9 of the output: exit 1, names the signal; the input is stopped", async () => {
      const run = pipeline("kill-output", { path: numberedInput }, recorder());
      const started = start(run);
      await waitForFile(`${run.folder}/output.pid`);
      await waitForFile(`${run.folder}/input.pid`);
      await sleep(300);
      process.kill(providerPids(run).output ?? 0, "SIGKILL");
      const result = await started.finished;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: task "t": output provider ${recordingOutput} was killed by SIGKILL while the input was still sending \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
        ),
      );
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an input that exits non-zero: exit 1 with its code; its lines were all delivered", async () => {
      const run = pipeline(
        "input-exit-3",
        { path: numberedInput, config: { count: 10, exitCode: 3 } },
        recorder(),
      );
      const result = await start(run).finished;
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `error: task "t": input provider ${numberedInput} exited with code 3 (10 lines relayed, 0 in flight)\n`,
      });
      expect(recorded(run)).toBe(numberedLines(10));
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an input that exits non-zero before an output that never exits: the output is killed after --shutdown-timeout", async () => {
      const run = pipeline(
        "input-fails-output-deaf",
        { path: numberedInput, config: { count: 3, exitCode: 3 } },
        { path: deafProvider },
      );
      const result = await start(run, ["--shutdown-timeout", "1s"]).finished;
      expect(result).toMatchObject({
        exitCode: 1,
        timedOut: false,
        stderr: `error: task "t": input provider ${numberedInput} exited with code 3 (3 lines relayed, 0 in flight${unread("190 B")})\n`,
      });
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an output that exits 0 early while data flows (broken pipe): exit 1, the input is stopped", async () => {
      const run = pipeline(
        "output-exits-early",
        { path: numberedInput },
        recorder({ exitAfter: 1000 }),
      );
      // Repeated: a stopped input blocked on its full pipe once made this hang until a signal. A
      // long --shutdown-timeout keeps the kill timer from hiding that: the input must end on SIGTERM.
      for (let attempt = 0; attempt < 5; attempt++) {
        const result = await start(run, ["--shutdown-timeout", "60s"], 15_000).finished;
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `^error: task "t": output provider ${recordingOutput} exited with code 0 while the input was still sending \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
          ),
        );
        expect(recorded(run)).toBe(numberedLines(1000));
        expect(await survivors(run)).toEqual([]);
      }
    }, 90_000);

    test("an output that never reads its stdin: the pipeline stalls; SIGTERM ends it after --shutdown-timeout", async () => {
      const run = pipeline("deaf-output", { path: numberedInput }, { path: deafProvider });
      const started = start(run, ["--shutdown-timeout", "1s"]);
      await waitForFile(`${run.folder}/input.pid`);
      await waitForFile(`${run.folder}/output.pid`);
      await sleep(500);
      started.signal("SIGTERM");
      const result = await started.finished;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /^error: task "t": providers did not stop within 1 s of SIGTERM and were killed \(\d+ lines relayed, \d+ in flight(; the killed output had not read [\d.]+ (B|KiB|MiB) of its stdin)?\)\n$/,
      );
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an output that never exits after its input ended: dstream waits; SIGTERM ends it after --shutdown-timeout", async () => {
      const run = pipeline(
        "output-never-exits",
        { path: numberedInput, config: { count: 3 } },
        { path: deafProvider },
      );
      const started = start(run, ["--shutdown-timeout", "1s"]);
      await waitForFile(`${run.folder}/output.pid`);
      await sleep(1800);
      // Still running: an output may take its time to flush, so dstream does not give up on it alone.
      expect(await Promise.race([started.finished.then(() => "ended"), sleep(0)])).not.toBe(
        "ended",
      );
      started.signal("SIGTERM");
      const result = await started.finished;
      // The wait is told once --shutdown-timeout has passed, even with --quiet.
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `[warn] task "t": output provider ${deafProvider} has not exited 1 s after the end of its input; still waiting (a stop signal ends it)\nerror: task "t": providers did not stop within 1 s of SIGTERM and were killed (3 lines relayed, 0 in flight${unread("190 B")})\n`,
      });
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("an input that never reads its stdin, with a config larger than a pipe holds: runs normally", async () => {
      const run = pipeline(
        "deaf-input",
        { path: deafProvider, config: { padding: "x".repeat(300_000) } },
        recorder(),
      );
      const result = await start(run).finished;
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(recorded(run)).toBe(numberedLines(3));
    }, 30_000);

    test("an input ignoring SIGTERM is killed after --shutdown-timeout: exit 1", async () => {
      const run = pipeline(
        "ignores-sigterm",
        { path: numberedInput, config: { ignoreSigterm: true, delayMs: 1 } },
        recorder(),
      );
      const started = start(run, ["--shutdown-timeout", "1s"]);
      await waitForFile(`${run.folder}/input.pid`);
      await sleep(300);
      started.signal("SIGTERM");
      const result = await started.finished;
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /^error: task "t": providers did not stop within 1 s of SIGTERM and were killed \(\d+ lines relayed, \d+ in flight(; the killed output had not read [\d.]+ (B|KiB|MiB) of its stdin)?\)\n$/,
      );
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("a second signal forces the stop at once: exit 130", async () => {
      const run = pipeline(
        "second-signal",
        { path: numberedInput, config: { ignoreSigterm: true, delayMs: 1 } },
        recorder(),
      );
      const started = start(run, ["--shutdown-timeout", "30s"]);
      await waitForFile(`${run.folder}/input.pid`);
      await sleep(300);
      started.signal("SIGINT");
      await sleep(300);
      started.signal("SIGINT");
      const result = await started.finished;
      expect(result).toMatchObject({
        exitCode: 130,
        stderr: `error: task "t": forced stop on a second SIGINT; providers killed\n`,
      });
      expect(await survivors(run)).toEqual([]);
    }, 30_000);

    test("dstream itself killed with SIGKILL: no provider survives it", async () => {
      // Providers that would live on by themselves: they ignore SIGTERM, EOF and their pipes closing.
      const run = pipeline(
        "dstream-killed",
        { path: numberedInput, config: { count: 5, ignoreSigterm: true } },
        recorder({ lingerAfterEnd: true }),
      );
      const started = start(run);
      await waitForFile(`${run.folder}/input.pid`);
      await waitForFile(`${run.folder}/output.pid`);
      await sleep(300);
      const pids = providerPids(run);
      expect(Object.keys(pids).sort()).toEqual(["input", "output"]);
      started.signal("SIGKILL");
      const result = await started.finished;
      expect(result.signalCode).toBe("SIGKILL");
      expect(await survivors(run)).toEqual([]);
    }, 30_000);
  });
});
