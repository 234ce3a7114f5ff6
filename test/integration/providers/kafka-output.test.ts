// kafka output in the compiled binary against a real broker: what kcat reads back, checkpoints
// echoed only after the broker acked, topic_prefix routing, codecs, lifecycle, one-line errors.
import { beforeAll, describe, expect, test } from "bun:test";
import { Admin } from "@platformatic/kafka";
import { dstreamBinary } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import {
  createTopic,
  envelope,
  kcat,
  readTopic,
  startKafka,
  uniqueTopic,
} from "./kafka-helpers.ts";

let broker = "";
let binary = "";
beforeAll(async () => {
  broker = await startKafka();
  binary = await dstreamBinary();
}, 600_000);

const ready = '{"status":"ready","protocol":2}\n';

function event(sequence: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    data: { id: sequence, name: `n${sequence}` },
    metadata: { sequence, ...extra },
  });
}

async function runOutput(config: Record<string, unknown>, lines: string[], command = "run") {
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "output",
    firstLine:
      command === "run"
        ? envelope({ bootstrap_servers: broker, ...config })
        : JSON.stringify({ command, config: { bootstrap_servers: broker, ...config } }),
  });
  if (lines.length > 0) provider.write(`${lines.join("\n")}\n`);
  provider.end();
  return provider.finish(60_000);
}

describe("kafka output (compiled binary, real broker)", () => {
  test("10,000 events reach a 3-partition topic, keyed by data.id, then the checkpoint is echoed", async () => {
    const topic = uniqueTopic("out");
    await createTopic(topic, 3);
    const events = Array.from({ length: 10_000 }, (_, index) => event(index + 1));
    const checkpoint = '{"checkpoint":{"at":10000}}';
    const result = await runOutput({ topic, key: "data.id" }, [
      ...events.slice(0, 5000),
      checkpoint.replace("10000", "5000"),
      ...events.slice(5000),
      checkpoint,
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}{"checkpoint":{"at":5000}}\n${checkpoint}\n`);
    const read = await readTopic(topic, "%k %s\\n");
    expect(read.length).toBe(10_000);
    const byKey = new Map(
      read.map((line) => [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)]),
    );
    expect(byKey.get("1")).toBe(events[0]);
    expect(byKey.get("10000")).toBe(events[9999]);
    expect(new Set(read).size).toBe(10_000);
    // Keys spread over the partitions.
    const partitions = new Set(await readTopic(topic, "%p\\n"));
    expect(partitions.size).toBe(3);
  }, 90_000);

  test('topic_prefix + metadata.table: "data_events.Orders" and "data_events.Customers" (the seed\'s form), value = "data"', async () => {
    const prefix = uniqueTopic("prefix").replaceAll("-", "_");
    await createTopic(`${prefix}.Orders`);
    await createTopic(`${prefix}.Customers`);
    const result = await runOutput({ topic_prefix: prefix, serialization: "json", value: "data" }, [
      event(1, { table: "Orders" }),
      event(2, { table: "Customers" }),
      event(3, { table: "Orders" }),
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(await readTopic(`${prefix}.Orders`, "%s\\n")).toEqual([
      '{"id":1,"name":"n1"}',
      '{"id":3,"name":"n3"}',
    ]);
    expect(await readTopic(`${prefix}.Customers`, "%s\\n")).toEqual(['{"id":2,"name":"n2"}']);
  }, 60_000);

  test.each(["gzip", "snappy", "lz4", "zstd"])(
    "compression %s: kcat reads every message",
    async (compression) => {
      const topic = uniqueTopic(`codec-${compression}`);
      await createTopic(topic);
      const events = Array.from({ length: 500 }, (_, index) => event(index + 1));
      const result = await runOutput({ topic, compression }, events);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(await readTopic(topic, "%s\\n")).toEqual(events);
    },
    60_000,
  );

  test("init creates the topic with its partitions, plan and status see it, destroy deletes it", async () => {
    const topic = uniqueTopic("init");
    const config = { topic, partitions: 4 };
    const planned = await runOutput(config, [], "plan");
    expect(JSON.parse(planned.stdout).message).toBe(
      `init would create topic "${topic}" (4 partitions, replication 1)`,
    );
    const init = await runOutput(config, [], "init");
    expect(JSON.parse(init.stdout)).toEqual({
      status: "Success",
      message: `created topic "${topic}" (4 partitions, replication 1)`,
      resources: [{ type: "kafka_topic", name: topic }],
    });
    const metadata = await kcat(["-L", "-t", topic]);
    expect(metadata.stdout).toContain(`topic "${topic}" with 4 partitions`);
    expect(JSON.parse((await runOutput(config, [], "init")).stdout).message).toBe(
      `topic "${topic}" already exists`,
    );
    expect(JSON.parse((await runOutput(config, [], "status")).stdout).message).toBe(
      `topic "${topic}" exists`,
    );
    const destroyed = await runOutput(config, [], "destroy");
    expect(JSON.parse(destroyed.stdout).message).toBe(
      `deleted topic "${topic}" (created by dstream init)`,
    );
    const status = await runOutput(config, [], "status");
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: "Failed",
      message: `topic "${topic}" does not exist (dstream init creates it)`,
    });
  }, 90_000);
});

describe("kafka output destroy deletes only what init created (compiled binary, real broker)", () => {
  const leftInPlace = (topic: string) =>
    `left topic "${topic}" in place: dstream init did not create it (it is not in "_dstream_created_topics"); delete it yourself if you mean to`;

  test("a topic that was there before init: init leaves it, destroy leaves it and its messages", async () => {
    const topic = uniqueTopic("foreign");
    await createTopic(topic);
    await kcat(["-P", "-t", topic], "kept\n");
    const init = await runOutput({ topic }, [], "init");
    expect(JSON.parse(init.stdout).message).toBe(`topic "${topic}" already exists`);
    const destroyed = await runOutput({ topic }, [], "destroy");
    expect(destroyed.exitCode).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toEqual({
      status: "Success",
      message: leftInPlace(topic),
      resources: [],
    });
    expect(await readTopic(topic, "%s\\n")).toEqual(["kept"]);
  }, 60_000);

  test("a topic init created, deleted and made again by someone else: destroy leaves the new one", async () => {
    const topic = uniqueTopic("remade");
    expect(JSON.parse((await runOutput({ topic }, [], "init")).stdout).message).toBe(
      `created topic "${topic}" (1 partitions, replication 1)`,
    );
    const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [broker] });
    try {
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.close();
    }
    // Deletion finishes on the broker a moment after it answers.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await createTopic(topic);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await Bun.sleep(200);
      }
    }
    const destroyed = await runOutput({ topic }, [], "destroy");
    expect(JSON.parse(destroyed.stdout).message).toBe(leftInPlace(topic));
    expect((await kcat(["-L", "-t", topic])).stdout).toContain(
      `topic "${topic}" with 1 partitions`,
    );
  }, 90_000);
});

describe("kafka output errors (compiled binary, real broker)", () => {
  test("brokers unreachable: one line naming them, within connect_timeout_ms", async () => {
    const started = Date.now();
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "output",
      firstLine: envelope({
        bootstrap_servers: "127.0.0.1:1",
        topic: "t",
        connect_timeout_ms: 2000,
      }),
    });
    provider.write(`${event(1)}\n`);
    provider.end();
    const result = await provider.finish(30_000);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(ready);
    expect(result.stderr).toMatch(
      /^error: kafka: cannot reach the brokers 127\.0\.0\.1:1 .*check bootstrap_servers.*\n$/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 40_000);

  test("topic missing with auto-create off: one line naming the topic and the fix", async () => {
    const topic = uniqueTopic("missing");
    const result = await runOutput({ topic }, [event(1)]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: topic "${topic}" does not exist and the brokers do not create topics on their own; create it (dstream init) or enable auto.create.topics.enable\n`,
    );
  }, 40_000);

  test("topic_prefix: a missing table topic is named at send time", async () => {
    const prefix = uniqueTopic("prefix-missing");
    const result = await runOutput({ topic_prefix: prefix }, [event(1, { table: "Nope" })]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: topic "${prefix}.Nope" does not exist and the brokers do not create topics on their own; create it (dstream init) or enable auto.create.topics.enable\n`,
    );
  }, 60_000);

  test("an event over max_message_bytes fails naming its sequence; the events before it were sent", async () => {
    const topic = uniqueTopic("large");
    await createTopic(topic);
    const big = JSON.stringify({ data: { blob: "x".repeat(2000) }, metadata: { sequence: 42 } });
    const result = await runOutput({ topic, max_message_bytes: 1000 }, [
      event(41),
      '{"checkpoint":1}',
      big,
    ]);
    expect(result.exitCode).toBe(1);
    // What came before it is in the topic (close() waited for its ack).
    expect(await readTopic(topic, "%s\\n")).toEqual([event(41)]);
    expect(result.stderr).toBe(
      `error: kafka: event 42 is ${big.length} bytes, over max_message_bytes (1000); raise it together with the topic's max.message.bytes, or make the event smaller\n`,
    );
  }, 40_000);

  test("the broker refusing a message as too large (topic max.message.bytes) names the event's sequence", async () => {
    const topic = uniqueTopic("broker-large");
    await createTopic(topic, 1, [{ name: "max.message.bytes", value: "2000" }]);
    const big = JSON.stringify({ data: { blob: "y".repeat(5000) }, metadata: { sequence: 7 } });
    const result = await runOutput({ topic }, [big]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: the broker refused event 7 (${big.length} bytes) as too large for topic "${topic}" (MESSAGE_TOO_LARGE); raise the topic's max.message.bytes or make the event smaller\n`,
    );
  }, 40_000);

  test("an event without metadata.table under topic_prefix names its sequence", async () => {
    const result = await runOutput({ topic_prefix: "p" }, [event(9)]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "error: kafka: event 9 has no metadata.table, which topic_prefix needs to name its topic; set topic instead\n",
    );
  }, 40_000);
});
