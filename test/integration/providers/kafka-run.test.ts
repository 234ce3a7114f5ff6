// kafka through `dstream run` with protocol v2 state, against the real broker: counter -> kafka and
// kafka -> file, each killed with -9 mid-stream (restart: everything at least once) and stopped
// cleanly mid-stream (restart: everything exactly once); a broker that goes away fails the run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { runUntil, taskFolders } from "../../helpers/run-task.ts";
import {
  createTopic,
  messageCount,
  produce,
  readTopic,
  startKafka,
  uniqueTopic,
} from "./kafka-helpers.ts";

let broker = "";
const folders = taskFolders("dstream-kafka-run-");
const taskFolder = folders.make;
beforeAll(async () => {
  broker = await startKafka();
  await dstreamBinary();
}, 600_000);
afterAll(() => {
  folders.removeAll();
});

const COUNT = 3000;

function counterToKafka(topic: string): string {
  return `task "t" {
  input {
    provider = "counter"
    config {
      interval = 2
      maxCount = ${COUNT}
    }
  }
  output {
    provider = "kafka"
    config {
      bootstrap_servers = "${broker}"
      topic             = "${topic}"
      serialization     = "json"
    }
  }
}
`;
}

const valuesIn = async (topic: string) =>
  (await readTopic(topic, "%s\\n")).map(
    (line) => (JSON.parse(line) as { data: { value: number } }).data.value,
  );

const oneToCount = Array.from({ length: COUNT }, (_, index) => index + 1);

describe("counter -> kafka through dstream run", () => {
  test("kill -9 mid-stream, then a restart: every event reaches the topic (at least once)", async () => {
    const topic = uniqueTopic("run-kill");
    await createTopic(topic);
    const folder = taskFolder(counterToKafka(topic));
    const killed = await runUntil(folder, () => messageCount(topic), 500, "SIGKILL");
    expect(killed.exitCode).not.toBe(0);
    await Bun.sleep(500);
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 60_000,
    });
    expect(second.stderr).not.toContain("error");
    expect(second.exitCode).toBe(0);
    const values = await valuesIn(topic);
    expect([...new Set(values)].sort((a, b) => a - b)).toEqual(oneToCount);
  }, 120_000);

  test("a clean stop mid-stream, then a restart: every event exactly once", async () => {
    const topic = uniqueTopic("run-stop");
    await createTopic(topic);
    const folder = taskFolder(counterToKafka(topic));
    const stopped = await runUntil(folder, () => messageCount(topic), 500, "SIGTERM");
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
    expect((await valuesIn(topic)).length).toBeLessThan(COUNT);
    const second = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      timeoutMs: 60_000,
    });
    expect(second.exitCode).toBe(0);
    expect(await valuesIn(topic)).toEqual(oneToCount);
  }, 120_000);
});

const MESSAGES = 60_000;

function kafkaToFile(topic: string, group: string, path: string): string {
  return `task "t" {
  input {
    provider = "kafka"
    config {
      bootstrap_servers = "${broker}"
      topics            = ["${topic}"]
      group_id          = "${group}"
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

/** The numbers of the whole lines of `path` (the last may still be being written). */
function numbersIn(path: string): number[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { data: { n: number } }).data.n);
}

async function feed(topic: string): Promise<void> {
  await createTopic(topic, 3);
  await produce(
    topic,
    Array.from({ length: MESSAGES }, (_, index) => JSON.stringify({ n: index + 1 })),
    "lz4",
  );
}

const allMessages = Array.from({ length: MESSAGES }, (_, index) => index + 1);
const lineCount = async (path: string) => numbersIn(path).length;

describe("kafka -> file through dstream run", () => {
  test("a clean stop mid-stream, then a restart: every message exactly once", async () => {
    const topic = uniqueTopic("in-stop");
    await feed(topic);
    const group = uniqueTopic("g");
    const folder = taskFolder((made) => kafkaToFile(topic, group, join(made, "out.jsonl")));
    const path = join(folder, "out.jsonl");
    const stopped = await runUntil(folder, () => lineCount(path), 1, "SIGTERM");
    expect(stopped.stderr).not.toContain("error");
    expect(stopped.exitCode).toBe(0);
    const afterStop = numbersIn(path).length;
    const second = await runUntil(folder, () => lineCount(path), MESSAGES, "SIGTERM");
    expect(second.exitCode).toBe(0);
    const numbers = numbersIn(path);
    expect(numbers.length).toBe(MESSAGES);
    expect(numbers.sort((a, b) => a - b)).toEqual(allMessages);
    expect(afterStop).toBeGreaterThan(0);
  }, 180_000);

  test("kill -9 mid-stream, then a restart: every message at least once", async () => {
    const topic = uniqueTopic("in-kill");
    await feed(topic);
    const group = uniqueTopic("g");
    const folder = taskFolder((made) => kafkaToFile(topic, group, join(made, "out.jsonl")));
    const path = join(folder, "out.jsonl");
    const killed = await runUntil(folder, () => lineCount(path), 1, "SIGKILL");
    expect(killed.exitCode).not.toBe(0);
    await Bun.sleep(500);
    await runUntil(folder, async () => new Set(numbersIn(path)).size, MESSAGES, "SIGTERM");
    expect([...new Set(numbersIn(path))].sort((a, b) => a - b)).toEqual(allMessages);
  }, 180_000);
});
