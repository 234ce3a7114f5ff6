// The compiled dstream with `state { backend = "postgres" }`: a counter -> file task resumes after
// its checkpoint in the table, a second run of a running task fails at once naming the holder, a
// killed run's lock is freed by the server, a run whose lock connection dies fails, and
// `dstream state show|set|reset` read and change the row. psql checks what is stored.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createWorkspace, type Workspace } from "../../e2e/helpers.ts";
import { startRun } from "../../faults/harness.ts";
import {
  createDatabase,
  dropDatabase,
  psql,
  psqlRows,
  uniqueDatabaseName,
} from "../providers/postgres-helpers.ts";

const PASSWORD = "dstream-test-password";
const databaseName = uniqueDatabaseName("state_run");
let workspace: Workspace;
let url: string;
/** The URL as dstream names the store: no password. */
let where: string;
/** The connection string as written in dstream.hcl: the password comes from the environment. */
let templated: string;
const env = () => ({ STATE_PASSWORD: PASSWORD });

beforeAll(async () => {
  url = await createDatabase(databaseName);
  const parsed = new URL(url);
  expect(decodeURIComponent(parsed.password)).toBe(PASSWORD);
  parsed.password = "";
  where = parsed.toString();
  templated = where.replace("postgres@", "postgres:{{ env `STATE_PASSWORD` }}@");
  workspace = await createWorkspace();
}, 120_000);

afterAll(async () => {
  workspace?.remove();
  await dropDatabase(databaseName);
});

function writeConfig(counter: { interval: number; maxCount: number }): void {
  workspace.write(
    "dstream.hcl",
    `state {
  backend           = "postgres"
  connection_string = "${templated}"
}

task "numbers" {
  input {
    provider = "counter"
    config {
      interval = ${counter.interval}
      maxCount = ${counter.maxCount}
    }
  }
  output {
    provider = "file"
    config {
      path = "out.jsonl"
    }
  }
}
`,
  );
}

const dstream = (args: string[]) =>
  workspace.run(args, { env: env(), keepState: true, timeoutMs: 30_000 });

function delivered(): number[] {
  const path = join(workspace.folder, "out.jsonl");
  if (!existsSync(path)) return [];
  // Whole lines only: a run may be writing the last one.
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { data: { value: number } }).data.value);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

const storedCheckpoint = () =>
  psqlRows(url, "SELECT checkpoint FROM dstream_state WHERE task = 'numbers'");

/** Waits (bounded) until `check` holds. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** The backend pid of the run holding the task's lock, once its owner row is written. */
async function lockHolder(): Promise<{ pid: number; backendPid: number; since: string }> {
  let row: string | undefined;
  await waitFor("the run's lock row", async () => {
    [row] = await psqlRows(
      url,
      "SELECT pid, backend_pid, to_json(since) #>> '{}' FROM dstream_state_locks WHERE task = 'numbers'",
    );
    return row !== undefined;
  });
  const [pid, backendPid, since] = (row ?? "").split("|");
  return {
    pid: Number(pid),
    backendPid: Number(backendPid),
    since: new Date(since ?? "").toISOString(),
  };
}

const advisoryLocks = async () =>
  Number(await psql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"));

test("a second run resumes after the checkpoint kept in PostgreSQL", async () => {
  writeConfig({ interval: 0, maxCount: 5 });
  const first = await dstream(["run", "numbers", "--quiet"]);
  expect(first.stderr).toBe("");
  expect(first.exitCode).toBe(0);
  expect(delivered()).toEqual(range(1, 5));
  expect(await storedCheckpoint()).toEqual(['{"value":5}']);
  // The lock is released and its owner row removed; no state folder beside the config.
  expect(await psql(url, "SELECT count(*) FROM dstream_state_locks")).toBe("0");
  expect(existsSync(join(workspace.folder, ".dstream"))).toBe(false);

  writeConfig({ interval: 0, maxCount: 8 });
  const second = await dstream(["run", "numbers", "--quiet"]);
  expect(second.exitCode).toBe(0);
  expect(delivered()).toEqual(range(1, 8));
  expect(await storedCheckpoint()).toEqual(['{"value":8}']);

  const shown = await dstream(["state", "show", "numbers"]);
  expect(shown.exitCode).toBe(0);
  const view = JSON.parse(shown.stdout);
  expect(view).toMatchObject({ task: "numbers", checkpoint: { value: 8 }, store: where });
  expect(view.committed_by).toMatchObject({ host: hostname() });
  expect(shown.stdout + shown.stderr).not.toContain(PASSWORD);
}, 60_000);

test("a second run of a running task fails at once (exit 2) naming pid, host and since", async () => {
  writeConfig({ interval: 100, maxCount: 0 });
  const running = startRun(workspace, ["run", "numbers", "--quiet"], {
    env: env(),
    timeoutMs: 60_000,
  });
  const holder = await lockHolder();
  expect(holder.pid).toBe(running.pid);
  const locked = `error: task "numbers" is already running: pid ${running.pid} on ${hostname()} since ${holder.since} holds its lock in ${where}\n`;

  const second = await dstream(["run", "numbers", "--quiet"]);
  expect(second).toMatchObject({ exitCode: 2, stderr: locked });
  // Nor can the state be changed under it.
  const reset = await dstream(["state", "reset", "numbers"]);
  expect(reset).toMatchObject({ exitCode: 2, stderr: locked });

  await waitFor("a few more lines", async () => delivered().length > 10);
  running.signal("SIGTERM");
  const stopped = await running.finished;
  expect(stopped.exitCode).toBe(0);
  const last = delivered().at(-1);
  expect(await storedCheckpoint()).toEqual([`{"value":${last}}`]);
  expect(await psql(url, "SELECT count(*) FROM dstream_state_locks")).toBe("0");
}, 90_000);

test("the lock of a run killed with SIGKILL is freed by the server: the next run takes it", async () => {
  writeConfig({ interval: 100, maxCount: 0 });
  const running = startRun(workspace, ["run", "numbers", "--quiet"], {
    env: env(),
    timeoutMs: 60_000,
  });
  await lockHolder();
  running.signal("SIGKILL");
  await running.finished;
  await waitFor("the killed run's session to end", async () => (await advisoryLocks()) === 0);

  const from = Number(JSON.parse((await storedCheckpoint())[0] ?? "{}").value);
  writeConfig({ interval: 0, maxCount: from + 3 });
  const next = await dstream(["run", "numbers", "--quiet"]);
  expect(next.exitCode).toBe(0);
  expect(await storedCheckpoint()).toEqual([`{"value":${from + 3}}`]);
  // The killed run's owner row was replaced by the next run's, then removed at its end.
  expect(await psql(url, "SELECT count(*) FROM dstream_state_locks")).toBe("0");
}, 90_000);

test("a run whose lock connection is killed fails with one line instead of running unlocked", async () => {
  // Idle after its first line: only the lock's own watch can notice, no checkpoint write would.
  writeConfig({ interval: 600_000, maxCount: 0 });
  const before = delivered().length;
  const running = startRun(workspace, ["run", "numbers", "--quiet"], {
    env: env(),
    timeoutMs: 60_000,
  });
  const holder = await lockHolder();
  await waitFor("the first line", async () => delivered().length > before);
  expect(await psql(url, `SELECT pg_terminate_backend(${holder.backendPid})`)).toBe("t");
  const ended = await running.finished;
  expect(ended.exitCode).toBe(1);
  expect(ended.stderr).toBe(
    `error: task "numbers" lost its run lock: the connection to the state backend postgres (${where}) failed: terminating connection due to administrator command; the run stops, as another run may take the task now\n`,
  );
  expect(ended.stderr).not.toContain(PASSWORD);
}, 90_000);

test("dstream state set, show and reset change the row", async () => {
  const set = await dstream(["state", "set", "numbers", '{"value":100}']);
  expect(set.exitCode).toBe(0);
  const [row] = await psqlRows(
    url,
    "SELECT checkpoint, committed_by->>'host' FROM dstream_state WHERE task = 'numbers'",
  );
  expect(row).toBe(`{"value":100}|${hostname()}`);
  const shown = JSON.parse((await dstream(["state", "show", "numbers"])).stdout);
  expect(shown.checkpoint).toEqual({ value: 100 });

  writeConfig({ interval: 0, maxCount: 102 });
  const before = delivered().length;
  expect((await dstream(["run", "numbers", "--quiet"])).exitCode).toBe(0);
  expect(delivered().slice(before)).toEqual([101, 102]);

  const reset = await dstream(["state", "reset", "numbers"]);
  expect(reset.exitCode).toBe(0);
  expect(reset.stderr + reset.stdout).toContain('task "numbers": checkpoint removed');
  expect(await storedCheckpoint()).toEqual([]);
  expect(JSON.parse((await dstream(["state", "show", "numbers"])).stdout)).toEqual({
    task: "numbers",
    checkpoint: null,
    store: where,
  });
}, 60_000);

test("a wrong password fails with one line that names the backend and not the password", async () => {
  writeConfig({ interval: 0, maxCount: 1 });
  const result = await workspace.run(["run", "numbers", "--quiet"], {
    env: { STATE_PASSWORD: "Not-The-Password-9" },
    keepState: true,
  });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(
    `error: state backend postgres (${where}): cannot connect: password authentication failed for user "postgres" (check the user and password of connection_string)\n`,
  );
  const unset = await workspace.run(["state", "show", "numbers"], { keepState: true });
  expect(unset.exitCode).toBe(2);
  expect(unset.stderr).toBe(
    'error: state › connection_string: environment variable STATE_PASSWORD is not set (use {{ env "STATE_PASSWORD" | default "..." }} to make it optional)\n',
  );
  // Commands that do not open the state need no password.
  expect((await workspace.run(["list"], { keepState: true })).exitCode).toBe(0);
}, 60_000);
