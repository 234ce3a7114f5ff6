// What the kafka output promises, checked where it takes effect: its record batches carry a
// producer id and sequence numbers in the broker's log (kcat's, without idempotence, do not), its
// produce requests ask for acks=all on the wire, and a checkpoint is not echoed while a frozen
// broker has not acked the messages before it (a broker of this file's own, SIGSTOPped).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { dstreamBinary, runProcess } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import {
  createTopic,
  envelope,
  kcat,
  kcatAt,
  type OwnKafka,
  produce,
  startKafka,
  startOwnKafka,
  uniqueTopic,
} from "./kafka-helpers.ts";

let broker = "";
let binary = "";
beforeAll(async () => {
  broker = await startKafka();
  binary = await dstreamBinary();
}, 600_000);

const ready = '{"status":"ready","protocol":2}\n';
const kafkaLibs = `${process.env.DSTREAM_SERVICES_CACHE ?? "/var/cache/dstream-services"}/kafka/libs`;

function event(sequence: number): string {
  return JSON.stringify({ data: { n: sequence }, metadata: { sequence } });
}

async function runOutput(address: string, config: Record<string, unknown>, lines: string[]) {
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "output",
    firstLine: envelope({ bootstrap_servers: address, ...config }),
  });
  provider.write(`${lines.join("\n")}\n`);
  provider.end();
  return provider.finish(60_000);
}

interface LoggedBatch {
  baseOffset: number;
  count: number;
  producerId: number;
  baseSequence: number;
  lastSequence: number;
}

/** The record batches of partition 0 of `topic` on the shared broker, as DumpLogSegments reads them. */
async function batchesInLog(topic: string): Promise<LoggedBatch[]> {
  const port = broker.split(":")[1];
  const run = process.env.DSTREAM_KAFKA_RUN ?? `/tmp/dstream-kafka-${port}`;
  const segment = `${run}/data/${topic}-0/00000000000000000000.log`;
  const dumped = await runProcess(
    ["java", "-cp", `${kafkaLibs}/*`, "kafka.tools.DumpLogSegments", "--files", segment],
    { timeoutMs: 60_000 },
  );
  if (dumped.exitCode !== 0) throw new Error(`DumpLogSegments failed: ${dumped.stderr}`);
  const field = (line: string, name: string) =>
    Number(new RegExp(`\\b${name}: (-?\\d+)`).exec(line)?.[1]);
  return dumped.stdout
    .split("\n")
    .filter((line) => line.startsWith("baseOffset:"))
    .map((line) => ({
      baseOffset: field(line, "baseOffset"),
      count: field(line, "count"),
      producerId: field(line, "producerId"),
      baseSequence: field(line, "baseSequence"),
      lastSequence: field(line, "lastSequence"),
    }));
}

/**
 * The acks field of every Produce request `dstream __provider kafka` wrote to its sockets, read from
 * strace's hex dump of its writes (request header: api key 0, version, correlation id, client id
 * "dstream"; then the transactional id and acks).
 */
async function acksOnTheWire(config: Record<string, unknown>, lines: string[]): Promise<number[]> {
  const trace = join(tmpdir(), `dstream-kafka-strace-${process.pid}-${Date.now()}.txt`);
  try {
    const traced = await runProcess(
      [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=write,writev,sendto,sendmsg",
        "-xx",
        "-s",
        "65536",
        "-o",
        trace,
        binary,
        "__provider",
        "kafka",
      ],
      {
        env: { DSTREAM_ROLE: "output", DSTREAM_TASK: "test" },
        stdin: `${envelope({ bootstrap_servers: broker, ...config })}\n${lines.join("\n")}\n`,
        timeoutMs: 60_000,
      },
    );
    expect(traced.stderr).toBe("");
    expect(traced.exitCode).toBe(0);
    const written = Buffer.from(
      [...readFileSync(trace, "utf8").matchAll(/\\x([0-9a-f]{2})/g)].map((match) =>
        Number.parseInt(match[1] as string, 16),
      ),
    );
    const clientId = Buffer.from("\x00\x07dstream");
    const acks: number[] = [];
    for (let at = written.indexOf(clientId); at >= 0; at = written.indexOf(clientId, at + 1)) {
      const header = at - 8; // api key, version, correlation id
      if (header < 0 || written.readInt16BE(header) !== 0) continue;
      // v9+: an empty tag buffer and a null compact transactional id; before: a null string (-1).
      // Either way two bytes, then acks.
      acks.push(written.readInt16BE(at + clientId.length + 2));
    }
    return acks;
  } finally {
    rmSync(trace, { force: true });
  }
}

describe("kafka output delivery, seen from the broker", () => {
  test("dstream's batches carry a producer id and gapless sequence numbers in the log; kcat's (no idempotence) and idempotent = false's do not", async () => {
    const topic = uniqueTopic("idempotent");
    await createTopic(topic);
    await produce(topic, ["from kcat 1", "from kcat 2"]);
    const events = Array.from({ length: 12_000 }, (_, index) => event(index + 1));
    const result = await runOutput(broker, { topic }, [...events, '{"checkpoint":1}']);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${ready}{"checkpoint":1}\n`);
    const plain = await runOutput(broker, { topic, idempotent: false }, [event(0)]);
    expect(plain.exitCode).toBe(0);

    const batches = await batchesInLog(topic);
    const [fromKcat, ...rest] = batches;
    const fromDstream = rest.slice(0, -1);
    const fromPlain = rest[rest.length - 1];
    expect(fromKcat).toMatchObject({ baseOffset: 0, count: 2, producerId: -1, baseSequence: -1 });
    // The client writes base sequence 0 here; without a producer id the broker ignores it.
    expect(fromPlain).toMatchObject({ count: 1, producerId: -1 });
    // 12,000 events go in several batches (5000 events at most each), all of one producer.
    expect(fromDstream.length).toBeGreaterThan(1);
    expect(fromDstream.reduce((sum, batch) => sum + batch.count, 0)).toBe(12_000);
    const producerId = fromDstream[0]?.producerId ?? -1;
    expect(producerId).toBeGreaterThanOrEqual(0);
    let nextSequence = 0;
    for (const batch of fromDstream) {
      expect(batch.producerId).toBe(producerId);
      expect(batch.baseSequence).toBe(nextSequence);
      expect(batch.lastSequence).toBe(nextSequence + batch.count - 1);
      nextSequence += batch.count;
    }
  }, 120_000);

  test('produce requests ask for acks = -1 (all) by default, 1 with acks = "leader"', async () => {
    const topic = uniqueTopic("acks");
    await createTopic(topic);
    const lines = [event(1), event(2), '{"checkpoint":2}'];
    const byDefault = await acksOnTheWire({ topic }, lines);
    expect(byDefault.length).toBeGreaterThan(0);
    expect(new Set(byDefault)).toEqual(new Set([-1]));
    const leader = await acksOnTheWire({ topic, acks: "leader", idempotent: false }, lines);
    expect(leader.length).toBeGreaterThan(0);
    expect(new Set(leader)).toEqual(new Set([1]));
    expect((await kcat(["-C", "-t", topic, "-e", "-q", "-f", "%s\\n"])).stdout.split("\n")).toEqual(
      [event(1), event(2), event(1), event(2), ""],
    );
  }, 120_000);
});

describe("kafka output against a frozen broker (a broker of this file's own)", () => {
  let own: OwnKafka | undefined;
  afterAll(() => own?.stop());

  test("a checkpoint is not echoed while the broker is frozen; after SIGCONT it is, and every event is in the topic", async () => {
    own = startOwnKafka(39392);
    const topic = "frozen";
    const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [own.address] });
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    } finally {
      await admin.close();
    }
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "output",
      firstLine: envelope({ bootstrap_servers: own.address, topic }),
    });
    // Connected and the topic looked up: the output has told dstream it is ready.
    await provider.waitForLines(1, 30_000);
    expect(provider.stdout).toBe(ready);
    process.kill(own.pid, "SIGSTOP");
    let frozen = true;
    try {
      const events = Array.from({ length: 2000 }, (_, index) => event(index + 1));
      provider.write(`${events.join("\n")}\n{"checkpoint":2000}\n`);
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        expect(provider.stdout).toBe(ready);
        expect(provider.child.exitCode).toBeNull();
        await Bun.sleep(100);
      }
      process.kill(own.pid, "SIGCONT");
      frozen = false;
      await provider.waitForLines(2, 30_000);
      expect(provider.stdout).toBe(`${ready}{"checkpoint":2000}\n`);
      provider.end();
      const result = await provider.finish(30_000);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      const read = await kcatAt(own.address, ["-C", "-t", topic, "-e", "-q", "-f", "%s\\n"]);
      expect(read.stdout.split("\n").filter((line) => line !== "")).toEqual(events);
    } finally {
      if (frozen) process.kill(own.pid, "SIGCONT");
      provider.child.kill("SIGKILL");
    }
  }, 180_000);
});
