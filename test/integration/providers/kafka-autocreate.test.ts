// kafka against a broker with auto.create.topics.enable=true (Kafka's default; a broker of this
// file's own): the output lets the broker create a topic it lacks, as kcat does, including the
// seed's topic_prefix form; the input never creates one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Admin } from "@platformatic/kafka";
import { dstreamBinary } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import { envelope, kcatAt, type OwnKafka, startOwnKafka, uniqueTopic } from "./kafka-helpers.ts";

let broker: OwnKafka | undefined;
let address = "";
let binary = "";
beforeAll(async () => {
  binary = await dstreamBinary();
  broker = startOwnKafka(39292, { autoCreateTopics: true });
  address = broker.address;
}, 600_000);
afterAll(() => broker?.stop());

const ready = '{"status":"ready","protocol":2}\n';

function event(sequence: number, table?: string): string {
  return JSON.stringify({
    data: { id: sequence },
    metadata: { sequence, ...(table ? { table } : {}) },
  });
}

async function runOutput(config: Record<string, unknown>, lines: string[]) {
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "output",
    firstLine: envelope({ bootstrap_servers: address, ...config }),
  });
  provider.write(`${lines.join("\n")}\n`);
  provider.end();
  return provider.finish(60_000);
}

async function readTopic(topic: string): Promise<string[]> {
  const result = await kcatAt(address, ["-C", "-t", topic, "-e", "-q", "-f", "%s\\n"]);
  if (result.exitCode !== 0) throw new Error(`kcat -C failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

/** Asked with the admin client: kcat -L -t asks the broker to create the topic it names. */
async function topicExists(topic: string): Promise<boolean> {
  const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [address] });
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.close();
  }
}

describe("kafka with a broker that creates topics (auto.create.topics.enable=true)", () => {
  test("output: a topic the broker lacks is created by it; every event lands and the checkpoint is echoed", async () => {
    const topic = uniqueTopic("auto");
    expect(await topicExists(topic)).toBe(false);
    const events = Array.from({ length: 100 }, (_, index) => event(index + 1));
    const result = await runOutput({ topic }, [...events, '{"checkpoint":100}']);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}{"checkpoint":100}\n`);
    expect(await readTopic(topic)).toEqual(events);
  }, 90_000);

  test("output: the seed's sql-to-kafka form (topic_prefix + metadata.table) creates one topic per table", async () => {
    const prefix = uniqueTopic("data_events").replaceAll("-", "_");
    const [order1, customer, order3, inventory] = [
      event(1, "Orders"),
      event(2, "Customers"),
      event(3, "Orders"),
      event(4, "Inventory"),
    ] as const;
    const lines = [order1, customer, order3, inventory];
    const result = await runOutput({ topic_prefix: prefix, serialization: "json" }, [
      ...lines,
      '{"checkpoint":4}',
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${ready}{"checkpoint":4}\n`);
    expect(await readTopic(`${prefix}.Orders`)).toEqual([order1, order3]);
    expect(await readTopic(`${prefix}.Customers`)).toEqual([customer]);
    expect(await readTopic(`${prefix}.Inventory`)).toEqual([inventory]);
  }, 90_000);

  test("input: a missing topic is not created; one line says to check topics", async () => {
    const topic = uniqueTopic("auto-in");
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "input",
      firstLine: envelope({
        bootstrap_servers: address,
        topics: [topic],
        group_id: uniqueTopic("g"),
        session_timeout_ms: 6000,
      }),
    });
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`error: kafka: topic "${topic}" does not exist; check topics\n`);
    // A broker creates a topic a moment after the request that asked for it: watch for a while.
    const watchUntil = Date.now() + 3000;
    while (Date.now() < watchUntil) {
      expect(await topicExists(topic)).toBe(false);
      await Bun.sleep(250);
    }
  }, 60_000);
});
