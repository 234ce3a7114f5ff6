// The file state store through the compiled binary: a run resumes after its checkpoint, a second
// run of a running task is refused naming the holder, a killed run's lock is taken over, and
// `dstream state show|set|reset` read and change what the next run resumes after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { startRun, waitForFile } from "../faults/harness.ts";
import { createWorkspace, type Workspace } from "./helpers.ts";

let workspace: Workspace;
beforeAll(async () => {
  workspace = await createWorkspace();
});
afterAll(() => workspace.remove());

/** counter -> file: `maxCount` values, `interval` ms apart, into `out` (in the workspace). */
function counterTask(maxCount: number, interval: number, out = "out.jsonl"): string {
  return workspace.write(
    "state.hcl",
    `task "t" {
  input {
    provider = "counter"
    config {
      interval = ${interval}
      maxCount = ${maxCount}
    }
  }
  output {
    provider = "file"
    config { path = "${out}" }
  }
}
`,
  );
}

/** The values of the whole lines of `path` (the last may still be being written). */
const valuesIn = async (path: string): Promise<number[]> =>
  wholeLines(await Bun.file(path).text())
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { data: { value: number } }).data.value);

const wholeLines = (text: string) => text.slice(0, text.lastIndexOf("\n") + 1);

/** The lock's owner once the run has written it (the file exists a moment before its content). */
async function lockOwner(lock: string): Promise<{ pid: number; since: string }> {
  for (let tries = 0; tries < 500; tries++) {
    const text = await Bun.file(lock)
      .text()
      .catch(() => "");
    if (text.endsWith("\n")) return JSON.parse(text) as { pid: number; since: string };
    await Bun.sleep(20);
  }
  throw new Error(`${lock} names no owner`);
}

/** Waits until `path` holds at least `count` lines (a run is relaying). */
async function untilValues(path: string, count: number): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    if (existsSync(path) && (await valuesIn(path)).length >= count) return;
    await Bun.sleep(20);
  }
  throw new Error(`${path} did not reach ${count} lines`);
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);

const run = (args: string[]) => workspace.run(args, { keepState: true, timeoutMs: 30_000 });

describe("file state through dstream", () => {
  test("show, set and reset: the next run resumes after what was set, or from the start", async () => {
    const config = counterTask(5, 0);
    const out = join(workspace.folder, "out.jsonl");
    await workspace.run(["state", "reset", "t", "-c", config]);
    expect((await run(["run", "t", "-c", config, "--quiet"])).exitCode).toBe(0);
    expect(await valuesIn(out)).toEqual(range(1, 5));

    const shown = await run(["state", "show", "t", "-c", config]);
    expect(shown.exitCode).toBe(0);
    const view = JSON.parse(shown.stdout);
    expect(view).toMatchObject({
      task: "t",
      checkpoint: { value: 5 },
      committed_by: { host: hostname() },
      store: join(workspace.folder, ".dstream"),
    });
    expect(Number.isNaN(Date.parse(view.committed_at))).toBe(false);

    const set = await run(["state", "set", "t", '{"value":2}', "-c", config]);
    expect({ exitCode: set.exitCode, stderr: set.stderr }).toEqual({
      exitCode: 0,
      stderr: '[info] task "t": checkpoint set; the next run resumes after it\n',
    });
    expect((await run(["run", "t", "-c", config, "--quiet"])).exitCode).toBe(0);
    expect(await valuesIn(out)).toEqual([...range(1, 5), 3, 4, 5]);

    const reset = await run(["state", "reset", "t", "-c", config]);
    expect(reset.stderr).toBe(
      '[info] task "t": checkpoint removed; the next run starts from the beginning\n',
    );
    expect((await run(["state", "reset", "t", "-c", config])).stderr).toBe(
      '[info] task "t" had no checkpoint\n',
    );
    expect(JSON.parse((await run(["state", "show", "t", "-c", config])).stdout).checkpoint).toBe(
      null,
    );
  }, 60_000);

  test("a checkpoint that is not JSON is refused (exit 2) and changes nothing", async () => {
    const config = counterTask(1, 0);
    const result = await run(["state", "set", "t", "{value", "-c", config]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 2,
      stderr: 'error: the checkpoint for task "t" is not JSON: "{value"\n',
    });
  });

  test("a second run of a running task, and state reset under it, are refused naming the holder", async () => {
    const config = counterTask(0, 50, "running.jsonl");
    const first = startRun(workspace, ["run", "t", "-c", config, "--quiet"], {
      timeoutMs: 30_000,
    });
    const lock = join(workspace.folder, ".dstream", "t.lock");
    try {
      await waitForFile(lock);
      const holder = await lockOwner(lock);
      expect(holder.pid).toBe(first.pid);
      await untilValues(join(workspace.folder, "running.jsonl"), 1);
      const expected = `error: task "t" is already running: pid ${first.pid} on ${hostname()} since ${holder.since} holds ${lock}\n`;
      for (const args of [
        ["run", "t", "-c", config, "--quiet"],
        ["state", "reset", "t", "-c", config],
      ]) {
        const second = await run(args);
        expect({ args, exitCode: second.exitCode, stderr: second.stderr }).toEqual({
          args,
          exitCode: 2,
          stderr: expected,
        });
      }
    } finally {
      // Ended whatever happened above: a run left holding "t" would fail the next test.
      first.signal("SIGTERM");
    }
    expect((await first.finished).exitCode).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  test("the lock of a run killed with SIGKILL is taken over by the next run", async () => {
    const config = counterTask(0, 50, "killed.jsonl");
    const killed = startRun(workspace, ["run", "t", "-c", config, "--quiet"], {
      timeoutMs: 30_000,
    });
    const lock = join(workspace.folder, ".dstream", "t.lock");
    await waitForFile(lock);
    await lockOwner(lock);
    await untilValues(join(workspace.folder, "killed.jsonl"), 1);
    killed.signal("SIGKILL");
    await killed.finished;
    expect(existsSync(lock)).toBe(true);
    const next = startRun(workspace, ["run", "t", "-c", config, "--quiet"], {
      timeoutMs: 30_000,
    });
    for (let tries = 0; tries < 500; tries++) {
      const text = await Bun.file(lock)
        .text()
        .catch(() => "");
      if (text.includes(`"pid":${next.pid}`)) break;
      await Bun.sleep(20);
    }
    expect(JSON.parse(await Bun.file(lock).text()).pid).toBe(next.pid);
    // Stopped once it relays (a signal before its handlers are set would end it at once).
    const before = existsSync(join(workspace.folder, "killed.jsonl"))
      ? (await valuesIn(join(workspace.folder, "killed.jsonl"))).length
      : 0;
    await untilValues(join(workspace.folder, "killed.jsonl"), before + 1);
    next.signal("SIGTERM");
    const result = await next.finished;
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
  }, 60_000);
});
