// A nats-server stopped mid-run (a server of the tests' own, on another port, so the shared one
// keeps running): back within connect_timeout_ms, the run goes on and loses nothing; gone longer,
// the run fails with one line naming the servers, and a rerun once it is back delivers everything.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { baseEnv, dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { taskFolders } from "../../helpers/run-task.ts";
import {
  createStreamWithClient,
  natsService,
  publishWithClient,
  readStreamWithClient,
  startNats,
  streamDetail,
  uniqueName,
} from "./nats-helpers.ts";

const PORT = "34232";
const env = { DSTREAM_NATS_PORT: PORT };
const url = `nats://127.0.0.1:${PORT}`;
let monitor = "";
const folders = taskFolders("dstream-nats-down-");
const taskFolder = folders.make;

beforeAll(async () => {
  startNats();
  await dstreamBinary();
}, 600_000);
afterAll(() => {
  natsService(env, "stop");
  folders.removeAll();
});

const oneTo = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`took too long: ${what}`);
    await Bun.sleep(50);
  }
}

function startRun(folder: string) {
  const child = Bun.spawn(
    [dstreamBinaryPath, "run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"],
    { env: baseEnv(), stdout: "pipe", stderr: "pipe" },
  );
  const stderr = new Response(child.stderr).text();
  return {
    child,
    /** The exit code and stderr, killing the run if it has not ended within `timeoutMs`. */
    async finish(timeoutMs: number) {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const exitCode = await child.exited;
      clearTimeout(timer);
      if (child.signalCode === "SIGKILL")
        throw new Error(`took too long: killed after ${timeoutMs} ms`);
      return { exitCode, stderr: await stderr };
    },
  };
}

let dstreamBinaryPath = "";
beforeAll(async () => {
  dstreamBinaryPath = await dstreamBinary();
});

const COUNT = 3000;

function counterToNats(stream: string, timeoutMs: number): string {
  return `task "t" {
  input {
    provider = "counter"
    config {
      interval = 2
      maxCount = ${COUNT}
    }
  }
  output {
    provider = "nats"
    config {
      servers            = "${url}"
      stream             = "${stream}"
      subject            = "${stream}.counter"
      connect_timeout_ms = ${timeoutMs}
    }
  }
}
`;
}

const storedCount = async (stream: string) =>
  (await streamDetail(stream, monitor))?.state.messages ?? 0;

const valuesIn = async (stream: string) =>
  (await readStreamWithClient(stream, { url })).map(
    (text) => (JSON.parse(text) as { data: { value: number } }).data.value,
  );

/** The first time each value appears, in stream order. */
const firstSeen = (values: number[]) => [...new Set(values)];

async function counterTask(timeoutMs: number) {
  monitor = natsService(env).monitor;
  const stream = uniqueName("DOWNOUT");
  await createStreamWithClient(stream, [`${stream}.counter`], { url });
  return { stream, folder: taskFolder(() => counterToNats(stream, timeoutMs)) };
}

describe("nats output, server stopped mid-run", () => {
  test("back within connect_timeout_ms: the run goes on, every event stored, in order", async () => {
    const { stream, folder } = await counterTask(20_000);
    const run = startRun(folder);
    await waitFor("300 events stored", async () => (await storedCount(stream)) >= 300);
    natsService(env, "halt");
    await Bun.sleep(1000);
    natsService(env);
    const result = await run.finish(60_000);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // Publishes cut off by the outage are sent again after the reconnect, in order; one the
    // server stored without its ack reaching dstream is stored twice (at least once).
    expect(firstSeen(await valuesIn(stream))).toEqual(oneTo(COUNT));
  }, 120_000);

  test("gone longer: the run fails with one line naming the server; a rerun delivers the rest", async () => {
    const { stream, folder } = await counterTask(3000);
    const run = startRun(folder);
    await waitFor("300 events stored", async () => (await storedCount(stream)) >= 300);
    natsService(env, "halt");
    const haltedAt = Date.now();
    const result = await run.finish(60_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split("\n").pop()).toMatch(
      new RegExp(
        `^error: task "t": output provider nats exited with code 1 .*: nats: lost the connection to nats://127\\.0\\.0\\.1:${PORT} and could not reconnect within 3000 ms; check that nats-server is running \\(`,
      ),
    );
    expect(Date.now() - haltedAt).toBeLessThan(30_000);
    natsService(env);
    const rerun = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 60_000,
    });
    expect(rerun.stderr).toBe("");
    expect(rerun.exitCode).toBe(0);
    expect([...new Set(await valuesIn(stream))].sort((a, b) => a - b)).toEqual(oneTo(COUNT));
  }, 120_000);
});

function natsToFile(stream: string, path: string, timeoutMs: number): string {
  return `task "t" {
  input {
    provider = "nats"
    config {
      servers            = "${url}"
      stream             = "${stream}"
      durable            = "archiver"
      ack_wait_ms        = 2000
      connect_timeout_ms = ${timeoutMs}
    }
  }
  output {
    provider = "file"
    config {
      path = "${path}"
    }
  }
}
`;
}

function numbersIn(path: string): number[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { data: { n: number } }).data.n);
}

async function archiveTask(timeoutMs: number) {
  monitor = natsService(env).monitor;
  const stream = uniqueName("DOWNIN");
  const subject = `${stream}.in`;
  await createStreamWithClient(stream, [subject], { url });
  let path = "";
  const folder = taskFolder((folder) => {
    path = join(folder, "archive.jsonl");
    return natsToFile(stream, path, timeoutMs);
  });
  const publish = (from: number, to: number) =>
    publishWithClient(
      subject,
      oneTo(to - from + 1).map((index) => JSON.stringify({ n: from + index - 1 })),
      { url },
    );
  return { folder, path, publish };
}

describe("nats input, server stopped mid-run", () => {
  test("back within connect_timeout_ms: the run goes on, every message at least once", async () => {
    const { folder, path, publish } = await archiveTask(20_000);
    await publish(1, 5000);
    const run = startRun(folder);
    await waitFor("5000 lines", async () => numbersIn(path).length >= 5000);
    natsService(env, "halt");
    await Bun.sleep(1000);
    natsService(env);
    await publish(5001, 10_000);
    // Past ack_wait_ms: what was delivered but not acked before the outage has come again.
    await waitFor("10000 lines", async () => numbersIn(path).length >= 10_000);
    await Bun.sleep(3000);
    run.child.kill("SIGTERM");
    const result = await run.finish(30_000);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // A restarted server may deliver again what it had acked just before it stopped.
    expect([...new Set(numbersIn(path))].sort((a, b) => a - b)).toEqual(oneTo(10_000));
  }, 120_000);

  test("gone longer: the run fails with one line naming the server; a rerun delivers the rest", async () => {
    const { folder, path, publish } = await archiveTask(3000);
    await publish(1, 5000);
    const run = startRun(folder);
    await waitFor("some lines", async () => numbersIn(path).length > 0);
    natsService(env, "halt");
    const haltedAt = Date.now();
    const result = await run.finish(60_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split("\n").pop()).toMatch(
      new RegExp(
        `^error: task "t": input provider nats exited with code 1: nats: lost the connection to nats://127\\.0\\.0\\.1:${PORT} and could not reconnect within 3000 ms; check that nats-server is running \\(`,
      ),
    );
    expect(Date.now() - haltedAt).toBeLessThan(30_000);
    natsService(env);
    await publish(5001, 6000);
    const rerun = startRun(folder);
    await waitFor(
      "every message in the file",
      async () => new Set(numbersIn(path)).size >= 6000,
      60_000,
    );
    rerun.child.kill("SIGTERM");
    const ended = await rerun.finish(30_000);
    expect(ended.exitCode).toBe(0);
    expect([...new Set(numbersIn(path))].sort((a, b) => a - b)).toEqual(oneTo(6000));
  }, 120_000);
});
