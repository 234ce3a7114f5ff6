// Kafka figures (issue 11): 1,000,000 messages of ~200 B produced by file -> kafka beside
// `kcat -P` producing the same file (idempotent, acks=all, both), and consumed by kafka -> null
// beside `kcat -C -e`, on the broker of test/services/kafka.sh, interleaved in one run. A minimal
// script on the client library alone (@platformatic/kafka) does the same work in the same run: what
// the library allows, so the rest of the gap to kcat is dstream's own.
import { readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Admin } from "@platformatic/kafka";
import { buildBenchBinary } from "./binary.ts";
import { machineLine } from "./timing.ts";

const MESSAGES = Number(process.env.BENCH_KAFKA_MESSAGES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PARTITIONS = 3;
const repoRoot = resolve(import.meta.dir, "../..");

/** The library alone: the output's batches (5,000 lines) and sends in flight (8), idempotent, acks=all. */
const produceScript = `
import { Producer } from "@platformatic/kafka";
const [broker, topic, file] = process.argv.slice(2);
const producer = new Producer({ clientId: "bench-library", bootstrapBrokers: [broker], idempotent: true, acks: -1, strict: false, autocreateTopics: false });
const lines = (await Bun.file(file).text()).split("\\n").filter((line) => line !== "");
const inFlight = new Set();
for (let start = 0; start < lines.length; start += 5000) {
  const messages = lines.slice(start, start + 5000).map((line) => ({ topic, value: Buffer.from(line) }));
  const sent = producer.send({ messages }).then(() => inFlight.delete(sent));
  inFlight.add(sent);
  if (inFlight.size >= 8) await Promise.race(inFlight);
}
await Promise.all(inFlight);
await producer.close();
`;

/** The library alone: a group member from the earliest offset, JSON.parse of every value, no commits. */
const consumeScript = `
import { Consumer } from "@platformatic/kafka";
const [broker, topic, group, count] = process.argv.slice(2);
const consumer = new Consumer({ clientId: "bench-library", bootstrapBrokers: [broker], groupId: group, autocommit: false, strict: false });
const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 500, highWaterMark: 8192 });
let seen = 0;
for await (const message of stream) {
  JSON.parse(message.value.toString("utf8"));
  if (++seen === Number(count)) break;
}
await stream.close();
await consumer.close(true);
`;

function startBroker(): string {
  const script = resolve(import.meta.dir, "../../test/services/kafka.sh");
  const started = Bun.spawnSync(["bash", script], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
  if (started.exitCode !== 0) throw new Error(`kafka.sh failed: ${started.stderr}`);
  return started.stdout.toString().trim().split("\n").pop() as string;
}

/** Lines of about 200 bytes each, like a CDC event. */
async function writeEvents(path: string): Promise<number> {
  const writer = Bun.file(path).writer({ highWaterMark: 1 << 22 });
  let bytes = 0;
  for (let id = 1; id <= MESSAGES; id++) {
    const line = `{"data":{"id":${id},"name":"customer ${id}","email":"customer${id}@example.com","amount":${id % 1000}.5,"status":"active"},"metadata":{"table":"orders","operation":"insert","sequence":${id}}}\n`;
    bytes += line.length;
    writer.write(line);
  }
  await writer.end();
  return bytes;
}

async function createTopics(broker: string, topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: "dstream-bench", bootstrapBrokers: [broker] });
  try {
    await admin.createTopics({ topics, partitions: PARTITIONS, replicas: 1 });
  } finally {
    await admin.close();
  }
  await Bun.sleep(1000); // the partitions' leaders
}

async function deleteTopics(broker: string, topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: "dstream-bench", bootstrapBrokers: [broker] });
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.close();
  }
}

async function timed(argv: string[], cwd: string, until?: () => boolean): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(argv, { cwd, stdout: "ignore", stderr: "pipe" });
  const stderr = new Response(child.stderr).text();
  if (until) {
    const deadline = Date.now() + 600_000;
    while (!until()) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`${argv.join(" ")} did not finish: ${await stderr}`);
      }
      await Bun.sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    child.kill("SIGTERM");
    await child.exited;
    return seconds;
  }
  const code = await child.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await stderr}`);
  return (performance.now() - started) / 1000;
}

/** Messages covered by the task's committed checkpoint (its state file under .dstream/). */
function committedMessages(folder: string): number {
  try {
    const file = readdirSync(join(folder, ".dstream")).find((name) =>
      name.endsWith(".checkpoint.json"),
    );
    if (!file) return 0;
    const state = JSON.parse(readFileSync(join(folder, ".dstream", file), "utf8")) as {
      checkpoint?: { offsets?: Record<string, Record<string, number>> };
    };
    let total = 0;
    for (const partitions of Object.values(state.checkpoint?.offsets ?? {})) {
      for (const offset of Object.values(partitions)) total += offset;
    }
    return total;
  } catch {
    return 0;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const rate = (seconds: number) => Math.round(MESSAGES / seconds).toLocaleString("en-US");

export default async function kafkaBench(): Promise<string> {
  const broker = startBroker();
  const binary = await buildBenchBinary();
  const folder = binary.folder;
  const events = join(folder, "events.jsonl");
  const bytes = await writeEvents(events);
  const timings = {
    dstreamProduce: [] as number[],
    kcatProduce: [] as number[],
    libraryProduce: [] as number[],
    dstreamConsume: [] as number[],
    kcatConsume: [] as number[],
    libraryConsume: [] as number[],
  };
  // The scripts import the client from the repository's node_modules.
  const producePath = join(repoRoot, "scripts/bench/.kafka-produce.tmp.ts");
  const consumePath = join(repoRoot, "scripts/bench/.kafka-consume.tmp.ts");
  writeFileSync(producePath, produceScript);
  writeFileSync(consumePath, consumeScript);
  try {
    for (let run = 1; run <= RUNS; run++) {
      const ours = `bench-dstream-${Date.now()}-${run}`;
      const theirs = `bench-kcat-${Date.now()}-${run}`;
      const library = `bench-library-${Date.now()}-${run}`;
      await createTopics(broker, [ours, theirs, library]);
      const produceConfig = join(folder, "produce.hcl");
      writeFileSync(
        produceConfig,
        `task "produce" {\n  input {\n    provider = "file"\n    config {\n      path   = "${events}"\n      format = "raw"\n    }\n  }\n  output {\n    provider = "kafka"\n    config {\n      bootstrap_servers = "${broker}"\n      topic             = "${ours}"\n    }\n  }\n}\n`,
      );
      rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      timings.kcatProduce.push(
        await timed(
          [
            "kcat",
            "-b",
            broker,
            "-P",
            "-t",
            theirs,
            "-l",
            "-X",
            "enable.idempotence=true",
            "-X",
            "acks=all",
            events,
          ],
          folder,
        ),
      );
      timings.dstreamProduce.push(
        await timed([binary.path, "run", "produce", "-c", produceConfig, "--quiet"], folder),
      );
      timings.libraryProduce.push(
        await timed([process.execPath, producePath, broker, library, events], repoRoot),
      );

      const consumeConfig = join(folder, "consume.hcl");
      writeFileSync(
        consumeConfig,
        `task "consume" {\n  input {\n    provider = "kafka"\n    config {\n      bootstrap_servers = "${broker}"\n      topics            = ["${ours}"]\n      group_id          = "${ours}"\n    }\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
      );
      rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      timings.kcatConsume.push(
        await timed(
          ["kcat", "-b", broker, "-C", "-t", ours, "-e", "-q", "-o", "beginning"],
          folder,
        ),
      );
      timings.dstreamConsume.push(
        await timed(
          [binary.path, "run", "consume", "-c", consumeConfig, "--quiet"],
          folder,
          () => committedMessages(folder) >= MESSAGES,
        ),
      );
      timings.libraryConsume.push(
        await timed(
          [process.execPath, consumePath, broker, ours, `${ours}-library`, String(MESSAGES)],
          repoRoot,
        ),
      );
      await deleteTopics(broker, [ours, theirs, library]);
    }
  } finally {
    binary.remove();
    unlinkSync(producePath);
    unlinkSync(consumePath);
  }
  const produce = median(timings.dstreamProduce);
  const kcatProduce = median(timings.kcatProduce);
  const consume = median(timings.dstreamConsume);
  const kcatConsume = median(timings.kcatConsume);
  const libraryProduce = median(timings.libraryProduce);
  const libraryConsume = median(timings.libraryConsume);
  return `## Kafka (issue 11)

${machineLine()}; Apache Kafka 4.1.1 (KRaft, one node, 512 MiB heap) from test/services/kafka.sh on
the same machine, ${PARTITIONS} partitions; ${MESSAGES.toLocaleString("en-US")} messages of
${Math.round(bytes / MESSAGES)} B; median of ${RUNS} interleaved runs.

| What | Seconds | Messages/s | Beside kcat | Beside the library alone |
| --- | --- | --- | --- | --- |
| \`kcat -P -l\` (idempotent, acks=all) | ${kcatProduce.toFixed(2)} | ${rate(kcatProduce)} | baseline | |
| a script on @platformatic/kafka alone: batches of 5,000, 8 in flight (idempotent, acks=all) | ${libraryProduce.toFixed(2)} | ${rate(libraryProduce)} | ${(kcatProduce / libraryProduce).toFixed(2)} | baseline |
| file (raw) -> kafka through \`dstream run\` (idempotent, acks=all) | ${produce.toFixed(2)} | ${rate(produce)} | ${(kcatProduce / produce).toFixed(2)} | ${(libraryProduce / produce).toFixed(2)} |
| \`kcat -C -e\` of that topic | ${kcatConsume.toFixed(2)} | ${rate(kcatConsume)} | baseline | |
| a script on @platformatic/kafka alone: join a group, JSON.parse every value, no commits | ${libraryConsume.toFixed(2)} | ${rate(libraryConsume)} | ${(kcatConsume / libraryConsume).toFixed(2)} | baseline |
| kafka -> null through \`dstream run\`, until the task's checkpoint covers every message | ${consume.toFixed(2)} | ${rate(consume)} | ${(kcatConsume / consume).toFixed(2)} | ${(libraryConsume / consume).toFixed(2)} |

Target (issue 11): at least 0.7 of kcat, produce and consume. ${
    kcatProduce / produce >= 0.7 && kcatConsume / consume >= 0.7
      ? "Met."
      : `Missed: the client library alone reaches ${(kcatProduce / libraryProduce).toFixed(2)} of kcat producing and ${(kcatConsume / libraryConsume).toFixed(2)} consuming on this machine, so no program on it can reach 0.7; dstream is ${(libraryProduce / produce).toFixed(2)} and ${(libraryConsume / consume).toFixed(2)} of the library alone (see docs/kafka.md, "Client").`
  }

The dstream figures include starting dstream and both providers and, for consume, joining the
group and the checkpoint's round trip (commit cadence 100 ms); kcat starts in milliseconds. The
library scripts include starting Bun and, for consume, joining the group: what any Bun program on
this client pays before dstream adds its processes, framing and checkpoints.
`;
}
