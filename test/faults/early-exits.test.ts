// Providers that end before their work is: one that leaves a child running (holding the pipes it
// inherited, or detached from its stdio), which is named and killed in a bounded time, whichever
// side started it; and an output that exits 0 before reading all it was sent, which fails the run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../e2e/helpers.ts";
import { streamsOnly } from "../helpers/binary.ts";
import {
  recorded,
  relays,
  runFolder,
  startRun,
  survivors,
  taskHcl,
  waitForFile,
} from "./harness.ts";
import { faultPipelines, numberedInput, recorder } from "./pipelines.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** A shell provider: writes its pid file as the fixtures do, then `body`. */
function shellProvider(name: string, body: string): string {
  const path = workspace.write(
    name,
    `#!/bin/sh\n[ -n "$FAULT_PID_DIR" ] && echo $$ >"$FAULT_PID_DIR/$DSTREAM_ROLE.pid"\n${body}`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** What an output that died or exited left unread in its stdin, said on raw pipes (Linux). */
const UNREAD = "(?:; the (?:killed )?output had not read [\\d.]+ (?:B|KiB|MiB) of its stdin)?";

/** Written by a provider once its lines are out and its child started: a signal may come. */
const markStarted = 'touch "$FAULT_PID_DIR/started"\n';

const threeLines =
  'read -r envelope\necho \'{"data":{"n":1}}\'\necho \'{"data":{"n":2}}\'\necho \'{"data":{"n":3}}\'\n';

describe.each(relays)("%s relay", (relay, relayEnv) => {
  const { pipeline, start } = faultPipelines(() => workspace, relay, relayEnv);
  const tag = relay.replace(" ", "-");

  test.each([
    ["its stdout and stderr", "sleep 60 &\n"],
    ["its stderr only", "sleep 60 >/dev/null &\n"],
  ])(
    "an input that exits 0 leaving a child holding %s: the run ends within seconds, the child is named and killed",
    async (what, background) => {
      const input = shellProvider(
        `leaves-child-${tag}-${what.length}.sh`,
        `${threeLines}${background}exit 0\n`,
      );
      const run = pipeline(`input-leaves-child-${what.length}`, { path: input }, recorder());
      const started = performance.now();
      const result = await start(run, [], 30_000).finished;
      expect({ exitCode: result.exitCode, timedOut: result.timedOut }).toEqual({
        exitCode: 0,
        timedOut: false,
      });
      // A grace of 2 s, not the child's 60.
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(result.stderr).toMatch(
        /^\[warn\] task "t": input provider \S+ exited, but processes it started were still running 2 s later \(sleep \(pid \d+\)\); they were killed: a provider's children must end with it\n$/,
      );
      expect(recorded(run)).toBe('{"data":{"n":1}}\n{"data":{"n":2}}\n{"data":{"n":3}}\n');
      expect(await survivors(run)).toEqual([]);
    },
    40_000,
  );

  test("a child detached from its stdio does not hold the run, and does not outlive it", async () => {
    const input = shellProvider(
      `detached-child-${tag}.sh`,
      `${threeLines}sleep 60 </dev/null >/dev/null 2>&1 &\nexit 0\n`,
    );
    const run = pipeline("input-detached-child", { path: input }, recorder());
    const result = await start(run, [], 30_000).finished;
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(recorded(run)).toBe('{"data":{"n":1}}\n{"data":{"n":2}}\n{"data":{"n":3}}\n');
    expect(await survivors(run)).toEqual([]);
  }, 40_000);

  test.each([
    ["input", "exited with code 3"],
    ["output", "exited with code 4 while the input was still sending"],
  ])(
    "an %s that leaves a child and then fails: its own exit is the error, the child is named and killed",
    async (role, said) => {
      // The child holds the provider's stdout and stderr: the exit must be judged without them.
      const failing = shellProvider(
        `fails-leaving-child-${tag}-${role}.sh`,
        role === "input"
          ? `${threeLines}( sleep 61 ) &\nexit 3\n`
          : "read -r envelope\n( sleep 61 ) &\nhead -n 2 >/dev/null\nexit 4\n",
      );
      const run = pipeline(
        `${role}-fails-leaving-child`,
        role === "input" ? { path: failing } : { path: numberedInput, config: { count: 100_000 } },
        role === "input" ? recorder() : { path: failing },
      );
      const result = await start(run, [], 30_000).finished;
      expect({ exitCode: result.exitCode, timedOut: result.timedOut }).toEqual({
        exitCode: 1,
        timedOut: false,
      });
      expect(result.stderr).toMatch(
        new RegExp(
          `^\\[warn\\] task "t": ${role} provider \\S+ exited, but processes it started were still running 2 s later \\((?:sh|sleep) \\(pid \\d+\\)(?:, (?:sh|sleep) \\(pid \\d+\\))*\\); they were killed: a provider's children must end with it\\n` +
            `error: task "t": ${role} provider \\S+ ${said} \\(\\d+ lines relayed, \\d+ in flight${UNREAD}\\)\\n$`,
        ),
      );
      expect(await survivors(run)).toEqual([]);
    },
    40_000,
  );

  test.each([
    ["dies with it", "( sleep 61 ) &\n"],
    ["ignores SIGTERM", "( trap '' TERM; sleep 61 ) &\n"],
  ])(
    "a SIGTERM to a run whose input left a child that %s: a clean stop, no process survives",
    async (what, child) => {
      const input = shellProvider(
        `stopped-leaving-child-${tag}-${what.length}.sh`,
        `${threeLines}${child}${markStarted}while :; do sleep 0.1; done\n`,
      );
      const run = pipeline(`stopped-leaving-child-${what.length}`, { path: input }, recorder());
      const started = start(run, [], 30_000);
      await waitForFile(join(run.folder, "started"));
      started.signal("SIGTERM");
      const result = await started.finished;
      expect({ exitCode: result.exitCode, timedOut: result.timedOut }).toEqual({
        exitCode: 0,
        timedOut: false,
      });
      expect(recorded(run)).toBe('{"data":{"n":1}}\n{"data":{"n":2}}\n{"data":{"n":3}}\n');
      // A child that outlived the input's stop is named; one that died with it needs no word.
      expect(result.stderr).toMatch(
        /^(?:\[warn\] task "t": input provider \S+ exited, but processes it started were still running 2 s later [^\n]*; they were killed: a provider's children must end with it\n)?$/,
      );
      expect(await survivors(run)).toEqual([]);
    },
    40_000,
  );

  test("a run whose input left a child, both deaf to SIGTERM: killed at --shutdown-timeout, no process survives", async () => {
    const input = shellProvider(
      `deaf-leaving-child-${tag}.sh`,
      `${threeLines}trap '' TERM\n( sleep 61 ) &\n${markStarted}while :; do sleep 0.1; done\n`,
    );
    const run = pipeline("deaf-leaving-child", { path: input }, recorder());
    const started = start(run, ["--shutdown-timeout", "1s"], 30_000);
    await waitForFile(join(run.folder, "started"));
    started.signal("SIGTERM");
    const result = await started.finished;
    expect({ exitCode: result.exitCode, timedOut: result.timedOut }).toEqual({
      exitCode: 1,
      timedOut: false,
    });
    expect(result.stderr).toBe(
      'error: task "t": providers did not stop within 1 s of SIGTERM and were killed (3 lines relayed, 0 in flight)\n',
    );
    expect(await survivors(run)).toEqual([]);
  }, 40_000);

  test("an output that leaves a child holding its stdout: the run ends, the child is killed", async () => {
    const output = shellProvider(
      `output-leaves-child-${tag}.sh`,
      'sleep 60 &\ncat >/dev/null\necho "output done" >&2\nexit 0\n',
    );
    const run = pipeline(
      "output-leaves-child",
      { path: numberedInput, config: { count: 5 } },
      {
        path: output,
      },
    );
    const result = await start(run, [], 30_000).finished;
    expect({ exitCode: result.exitCode, timedOut: result.timedOut }).toEqual({
      exitCode: 0,
      timedOut: false,
    });
    expect(result.stderr).toContain(
      "exited, but processes it started were still running 2 s later (sleep (pid ",
    );
    expect(await survivors(run)).toEqual([]);
  }, 40_000);
});

// An output that exits 0 without reading all it was sent: those lines were not delivered. Measured
// on raw pipes (Linux), where dstream holds a second read end of the output's stdin. The streams
// relay (other platforms; the suite's second CI run) cannot see into the pipe: the documented limit
// (docs/reliability.md) is asserted there instead, so a change either way shows.
const pipesRelay = streamsOnly ? "streams" : "raw pipes";
describe(`an output that exits 0 before reading all it was sent (${pipesRelay} relay)`, () => {
  const { pipeline, start } = faultPipelines(() => workspace, pipesRelay, {});

  test.each([
    ["reads 3 lines of 1,000", "head -n 3 >/dev/null\n"],
    ["reads none", ""],
  ])(
    "it %s: exit 1, the lines it left unread counted as not delivered",
    async (_what, reads) => {
      const output = shellProvider(
        `reads-some-${reads.length}.sh`,
        // Sleeps first, so that all 1,000 lines wait in its stdin before it reads.
        `read -r envelope\nsleep 1\n${reads}exit 0\n`,
      );
      const run = pipeline(
        `output-reads-some-${reads.length}`,
        {
          path: numberedInput,
          config: { count: 1000 },
        },
        { path: output },
      );
      const result = await start(run, [], 30_000).finished;
      if (streamsOnly) {
        // Everything went into the pipe before the output exited: counted as relayed, unseen.
        expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
          exitCode: 0,
          stderr: "",
        });
        expect(await survivors(run)).toEqual([]);
        return;
      }
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        /^error: task "t": output provider \S+ exited 0 without reading \d+ lines it was sent: they were not delivered \(1000 lines relayed, 0 in flight; the output had not read [\d.]+ (B|KiB) of its stdin\)\n$/,
      );
      const unread = Number(/without reading (\d+) lines/.exec(result.stderr)?.[1]);
      // head reads ahead a block, so at least the lines past its first block were never read.
      expect(unread).toBeGreaterThan(reads === "" ? 999 : 500);
      expect(await survivors(run)).toEqual([]);
    },
    40_000,
  );
});

describe("a lifecycle command whose provider leaves a child", () => {
  test("the answer comes, the child is named in a warning and killed, no process survives", async () => {
    const output = shellProvider(
      "lifecycle-leaves-child.sh",
      'read -r envelope\n( sleep 61 ) &\necho \'{"status":"Success","message":"ready"}\'\nexit 0\n',
    );
    const run = runFolder(workspace, "lifecycle-leaves-child");
    writeFileSync(run.config, taskHcl({ builtin: "counter" }, { path: output }));
    const result = await startRun(workspace, ["init", "t", "-c", run.config], {
      env: run.env,
      timeoutMs: 30_000,
    }).finished;
    expect(result).toMatchObject({
      exitCode: 0,
      timedOut: false,
      stdout: `output (${output}): Success - ready\n`,
    });
    expect(result.stderr).toMatch(
      /^\[warn\] task "t": output provider \S+ exited, but processes it started were still running 2 s later \((?:sh|sleep) \(pid \d+\)(?:, (?:sh|sleep) \(pid \d+\))*\); they were killed: a provider's children must end with it\n$/,
    );
    expect(await survivors(run)).toEqual([]);
  }, 40_000);
});
