// nats through `dstream run` with protocol v2 state, against the real nats-server: counter -> nats
// and nats -> file, each killed with -9 mid-stream (restart: everything at least once) and stopped
// cleanly mid-stream (restart: everything exactly once, nothing committed delivered again).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { runUntil, taskFolders } from "../../helpers/run-task.ts";
import {
  consumerDetail,
  createStreamWithClient,
  publishWithClient,
  readStreamWithClient,
  startNats,
  streamDetail,
  uniqueName,
} from "./nats-helpers.ts";

let server = "";
const folders = taskFolders("dstream-nats-run-");
const taskFolder = folders.make;
beforeAll(async () => {
  server = startNats().url;
  await dstreamBinary();
}, 600_000);
afterAll(() => {
  folders.removeAll();
});

const COUNT = 3000;
const oneTo = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

function counterToNats(stream: string): string {
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
      servers = "${server}"
      stream  = "${stream}"
      subject = "${stream}.counter"
    }
  }
}
`;
}

const storedCount = async (stream: string) => (await streamDetail(stream))?.state.messages ?? 0;

const valuesIn = async (stream: string) =>
  (await readStreamWithClient(stream)).map(
    (text) => (JSON.parse(text) as { data: { value: number } }).data.value,
  );

async function counterStream(): Promise<{ stream: string; folder: string }> {
  const stream = uniqueName("RUNOUT");
  const folder = taskFolder(counterToNats(stream));
  const init = await runDstream(["init", "t", "-c", join(folder, "dstream.hcl")]);
  expect(init.exitCode).toBe(0);
  return { stream, folder };
}

describe("counter -> nats through dstream run", () => {
  test("kill -9 mid-stream, then a restart: every event is in the stream (at least once)", async () => {
    const { stream, folder } = await counterStream();
    const killed = await runUntil(folder, () => storedCount(stream), 500, "SIGKILL");
    expect(killed.exitCode).not.toBe(0);
    expect(await storedCount(stream)).toBeLessThan(COUNT);
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 60_000,
    });
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    const values = await valuesIn(stream);
    expect([...new Set(values)].sort((a, b) => a - b)).toEqual(oneTo(COUNT));
  }, 120_000);

  test("a clean stop mid-stream, then a restart: every event exactly once, in order", async () => {
    const { stream, folder } = await counterStream();
    const stopped = await runUntil(folder, () => storedCount(stream), 500, "SIGTERM");
    expect(stopped.stderr).toBe("");
    expect(stopped.exitCode).toBe(0);
    expect(await storedCount(stream)).toBeLessThan(COUNT);
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 60_000,
    });
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    expect(await valuesIn(stream)).toEqual(oneTo(COUNT));
    expect((await streamDetail(stream))?.state.last_seq).toBe(COUNT);
  }, 120_000);
});

const MESSAGES = 20_000;

function natsToFile(stream: string, path: string): string {
  return `task "t" {
  input {
    provider = "nats"
    config {
      servers     = "${server}"
      stream      = "${stream}"
      durable     = "archiver"
      ack_wait_ms = 2000
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

interface ArchivedLine {
  data: { n: number };
  metadata: { sequence: number };
}

/** The whole lines of `path` (the last may still be being written). */
function linesIn(path: string): ArchivedLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ArchivedLine);
}

/** A stream, a task reading it into a file, and a feeder that takes at least 4 s to publish all. */
async function fedStream() {
  const stream = uniqueName("RUNIN");
  const subject = `${stream}.in`;
  await createStreamWithClient(stream, [subject]);
  const folder = taskFolder("");
  const path = join(folder, "archive.jsonl");
  writeFileSync(join(folder, "dstream.hcl"), natsToFile(stream, path));
  const payloads = oneTo(MESSAGES).map((n) => JSON.stringify({ n }));
  const feeding = publishWithClient(subject, payloads, { pauseMs: 100 });
  return { stream, folder, path, feeding };
}

const numbersIn = (path: string) => linesIn(path).map((line) => line.data.n);

describe("nats -> file through dstream run", () => {
  test("kill -9 mid-stream, then a restart: every message at least once", async () => {
    const { stream, folder, path, feeding } = await fedStream();
    const killed = await runUntil(folder, async () => numbersIn(path).length, 1000, "SIGKILL");
    expect(killed.exitCode).not.toBe(0);
    expect(numbersIn(path).length).toBeLessThan(MESSAGES);
    await feeding;
    const second = await runUntil(
      folder,
      async () => new Set(numbersIn(path)).size,
      MESSAGES,
      "SIGTERM",
    );
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    expect([...new Set(numbersIn(path))].sort((a, b) => a - b)).toEqual(oneTo(MESSAGES));
    // What the stream holds at sequence n is the message {"n": n}.
    expect(linesIn(path).every((line) => line.data.n === line.metadata.sequence)).toBe(true);
    expect(await streamDetail(stream)).toMatchObject({ state: { messages: MESSAGES } });
  }, 180_000);

  test("a clean stop mid-stream, then a restart: every message exactly once, nothing committed again", async () => {
    const { stream, folder, path, feeding } = await fedStream();
    const stopped = await runUntil(folder, async () => numbersIn(path).length, 1000, "SIGTERM");
    expect(stopped.stderr).toBe("");
    expect(stopped.exitCode).toBe(0);
    const afterStop = numbersIn(path);
    expect(afterStop.length).toBeGreaterThan(0);
    expect(afterStop.length).toBeLessThan(MESSAGES);
    await feeding;
    // The restart runs until JetStream holds nothing unacked: the redeliveries of what the first
    // run committed have come back (after ack_wait_ms) and been acked, not passed on.
    const second = await runUntil(
      folder,
      async () => {
        const durable = await consumerDetail(stream, "archiver");
        const settled = durable?.ack_floor.stream_seq === MESSAGES && durable.num_ack_pending === 0;
        return settled ? numbersIn(path).length : 0;
      },
      MESSAGES,
      "SIGTERM",
    );
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    const numbers = numbersIn(path);
    expect(numbers.slice(0, afterStop.length)).toEqual(afterStop);
    expect(numbers.length).toBe(MESSAGES);
    expect(numbers.sort((a, b) => a - b)).toEqual(oneTo(MESSAGES));
  }, 180_000);
});
