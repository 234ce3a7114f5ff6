// kafka input in the compiled binary against a real broker, fed by kcat: every codec, events and
// checkpoints, offsets committed to the group only on dstream's commit, resume, rebalance, errors.
import { beforeAll, describe, expect, test } from "bun:test";
import { dstreamBinary } from "../../helpers/binary.ts";
import { type ProviderProcess, startProvider } from "./helpers.ts";
import {
  createTopic,
  envelope,
  produce,
  readFromGroup,
  startKafka,
  uniqueTopic,
  waitForGroupMembers,
} from "./kafka-helpers.ts";

let broker = "";
let binary = "";
beforeAll(async () => {
  broker = await startKafka();
  binary = await dstreamBinary();
}, 600_000);

const ready = '{"status":"ready","protocol":2}';

interface InputLine {
  data?: unknown;
  metadata?: {
    topic: string;
    partition: number;
    offset: number;
    key: string | null;
    headers: Record<string, string>;
    timestamp: number;
  };
  checkpoint?: { offsets: Record<string, Record<string, number>> };
}

function startInput(config: Record<string, unknown>, checkpoint: unknown = null): ProviderProcess {
  return startProvider([binary, "__provider", "kafka"], {
    role: "input",
    firstLine: envelope(
      { bootstrap_servers: broker, session_timeout_ms: 6000, ...config },
      checkpoint,
    ),
  });
}

function linesOf(provider: ProviderProcess): InputLine[] {
  return provider.stdout
    .split("\n")
    .filter((line) => line !== "" && line !== ready)
    .map((line) => JSON.parse(line) as InputLine);
}

/** Waits until the input wrote `events` events and a checkpoint after the last of them. */
async function waitForEvents(
  provider: ProviderProcess,
  events: number,
  timeoutMs = 30_000,
): Promise<InputLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = linesOf(provider);
    const count = lines.filter((line) => line.metadata).length;
    if (count >= events && lines[lines.length - 1]?.checkpoint) return lines;
    if (Date.now() > deadline) {
      throw new Error(
        `took too long: ${events} events expected, got ${count}:\n${provider.stdout.slice(-2000)}`,
      );
    }
    await Bun.sleep(50);
  }
}

async function stop(provider: ProviderProcess) {
  provider.child.kill("SIGTERM");
  return provider.finish(30_000);
}

const lastCheckpoint = (lines: InputLine[]) =>
  lines.filter((line) => line.checkpoint).pop()?.checkpoint;

describe("kafka input (compiled binary, real broker, fed by kcat)", () => {
  test("reads messages in every codec Kafka offers, with topic, partition, offset, key and headers", async () => {
    const topic = uniqueTopic("codecs");
    await createTopic(topic);
    const codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    for (const codec of codecs) {
      await produce(
        topic,
        [JSON.stringify({ codec, n: 1 }), JSON.stringify({ codec, n: 2 })],
        codec,
        ["-k", `key-${codec}`, "-H", `codec=${codec}`],
      );
    }
    const provider = startInput({ topics: [topic], group_id: uniqueTopic("g") });
    const lines = await waitForEvents(provider, 10);
    const result = await stop(provider);
    expect(result.exitCode).toBe(0);
    const events = lines.filter((line) => line.metadata);
    expect(events.map((line) => line.data)).toEqual(
      codecs.flatMap((codec) => [
        { codec, n: 1 },
        { codec, n: 2 },
      ]),
    );
    expect(events[4]?.metadata).toMatchObject({
      topic,
      partition: 0,
      offset: 4,
      key: "key-snappy",
      headers: { codec: "snappy" },
    });
    expect(typeof events[4]?.metadata?.timestamp).toBe("number");
    expect(lastCheckpoint(lines)).toEqual({ offsets: { [topic]: { "0": 10 } } });
  }, 90_000);

  test('value = "string" and "base64" read values that are not JSON', async () => {
    const topic = uniqueTopic("text");
    await createTopic(topic);
    await produce(topic, ["plain text", "ünï"]);
    for (const [value, expected] of [
      ["string", ["plain text", "ünï"]],
      [
        "base64",
        [Buffer.from("plain text").toString("base64"), Buffer.from("ünï").toString("base64")],
      ],
    ] as const) {
      const provider = startInput({ topics: [topic], group_id: uniqueTopic("g"), value });
      const lines = await waitForEvents(provider, 2);
      await stop(provider);
      expect(lines.filter((line) => line.metadata).map((line) => line.data)).toEqual([...expected]);
    }
  }, 90_000);

  test("offsets reach the group only with dstream's commit: kcat in the group then reads what follows", async () => {
    const topic = uniqueTopic("commit");
    const group = uniqueTopic("group");
    await createTopic(topic, 2);
    await produce(
      topic,
      Array.from({ length: 20 }, (_, index) => JSON.stringify({ n: index + 1 })),
    );
    const provider = startInput({ topics: [topic], group_id: group });
    const lines = await waitForEvents(provider, 20);
    const checkpoint = lastCheckpoint(lines);
    // Nothing committed yet: stop, and the group still starts from the beginning.
    await stop(provider);
    expect((await readFromGroup(group, topic)).length).toBe(20);

    const group2 = uniqueTopic("group");
    const second = startInput({ topics: [topic], group_id: group2 });
    const secondLines = await waitForEvents(second, 20);
    const firstTen = secondLines.filter((line) => line.metadata).slice(0, 10);
    const partial: Record<string, number> = {};
    for (const line of firstTen) {
      const partition = String(line.metadata?.partition);
      partial[partition] = Math.max(partial[partition] ?? 0, (line.metadata?.offset ?? 0) + 1);
    }
    second.write(
      `${JSON.stringify({ command: "commit", checkpoint: { offsets: { [topic]: partial } } })}\n`,
    );
    await Bun.sleep(1500);
    await stop(second);
    const rest = await readFromGroup(group2, topic);
    expect(rest.length).toBe(10);
    expect(checkpoint?.offsets[topic]).toBeDefined();
  }, 120_000);

  test("a restart with the task's checkpoint delivers nothing twice, even when the group lags", async () => {
    const topic = uniqueTopic("resume");
    const group = uniqueTopic("group");
    await createTopic(topic, 3);
    await produce(
      topic,
      Array.from({ length: 30 }, (_, index) => JSON.stringify({ n: index + 1 })),
    );
    const first = startInput({ topics: [topic], group_id: group });
    const lines = await waitForEvents(first, 30);
    await stop(first);
    // The final checkpoint was never committed to the group (dstream's commit came after the exit).
    await produce(
      topic,
      Array.from({ length: 5 }, (_, index) => JSON.stringify({ n: 31 + index })),
    );
    const second = startInput({ topics: [topic], group_id: group }, lastCheckpoint(lines));
    const secondLines = await waitForEvents(second, 5);
    await Bun.sleep(1000);
    await stop(second);
    const numbers = secondLines
      .filter((line) => line.metadata)
      .map((line) => (line.data as { n: number }).n);
    expect(numbers.sort((a, b) => a - b)).toEqual([31, 32, 33, 34, 35]);
  }, 120_000);

  test("two processes in one group: every message is read, no partition by both", async () => {
    const topic = uniqueTopic("rebalance");
    const group = uniqueTopic("group");
    await createTopic(topic, 4);
    const first = startInput({ topics: [topic], group_id: group });
    await waitForGroupMembers(group, 1);
    const second = startInput({ topics: [topic], group_id: group });
    await waitForGroupMembers(group, 2);
    await produce(
      topic,
      Array.from({ length: 400 }, (_, index) => JSON.stringify({ n: index + 1 })),
    );
    const deadline = Date.now() + 30_000;
    const events = () => [...linesOf(first), ...linesOf(second)].filter((line) => line.metadata);
    while (events().length < 400 && Date.now() < deadline) await Bun.sleep(100);
    await Promise.all([stop(first), stop(second)]);
    const all = events();
    const numbers = new Set(all.map((line) => (line.data as { n: number }).n));
    expect(numbers.size).toBe(400);
    const partitionsOf = (provider: ProviderProcess) =>
      new Set(
        linesOf(provider)
          .filter((line) => line.metadata)
          .map((line) => line.metadata?.partition),
      );
    // Each partition read by one member only. Which member gets how many is the group's choice:
    // in about 2 of 9 CI runs the first member read none after the second joined (the group had
    // moved every partition to the second), a behaviour left open in issue 11.
    expect(partitionsOf(first).size + partitionsOf(second).size).toBe(4);
  }, 120_000);
});

describe("kafka input errors (compiled binary, real broker)", () => {
  test("a topic that does not exist: one line naming it", async () => {
    const topic = uniqueTopic("nope");
    const provider = startInput({ topics: [topic], group_id: uniqueTopic("g") });
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`error: kafka: topic "${topic}" does not exist; check topics\n`);
  }, 60_000);

  test("brokers unreachable: one line naming them, within the bound", async () => {
    const started = Date.now();
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "input",
      firstLine: envelope({
        bootstrap_servers: "127.0.0.1:1",
        topics: ["t"],
        group_id: "g",
        connect_timeout_ms: 2000,
        session_timeout_ms: 6000,
      }),
    });
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^error: kafka: cannot (reach the brokers|join group "g" at) 127\.0\.0\.1:1 .*check bootstrap_servers.*\n$/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);

  test('a message that is not JSON with value = "json" names topic, partition and offset', async () => {
    const topic = uniqueTopic("notjson");
    await createTopic(topic);
    await produce(topic, ['{"ok":1}', "not json"]);
    const provider = startInput({ topics: [topic], group_id: uniqueTopic("g") });
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: the message at ${topic} partition 0 offset 1 is not JSON; set value = "string" or "base64" to read it as text or bytes\n`,
    );
    expect(result.stdout).toContain('{"data":{"ok":1}');
  }, 60_000);
});
