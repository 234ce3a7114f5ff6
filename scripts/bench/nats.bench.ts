// NATS JetStream figures (issue 11): publish and consume messages/s through dstream (file -> nats,
// nats -> null) beside a minimal script on the same client library alone, which is what dstream's
// process model costs; on the server of test/services/nats.sh, interleaved in one run.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine } from "./timing.ts";

const MESSAGES = Number(process.env.BENCH_NATS_MESSAGES ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const repoRoot = resolve(import.meta.dir, "../..");

function startServer(): { url: string; monitor: string } {
  const started = Bun.spawnSync(["bash", join(repoRoot, "test/services/nats.sh")], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 300_000,
  });
  if (started.exitCode !== 0) throw new Error(`nats.sh failed: ${started.stderr}`);
  const [url, monitor] = started.stdout.toString().trim().split(" ");
  return { url: url as string, monitor: monitor as string };
}

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

/** The library alone: the same window of publishes in flight as the output, then every ack. */
const publishScript = `
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
const [servers, subject, file] = process.argv.slice(2);
const nc = await connect({ servers });
const js = jetstream(nc);
const text = await Bun.file(file).text();
const pending = new Set();
for (const line of text.split("\\n")) {
  if (line === "") continue;
  const p = js.publish(subject, line).then(() => pending.delete(p));
  pending.add(p);
  if (pending.size >= 4096) await Promise.race(pending);
}
await Promise.all(pending);
await nc.close();
`;

/** The library alone: a durable pull consumer, each message acked on receipt. */
const consumeScript = `
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
const [servers, stream, durable, count] = process.argv.slice(2);
const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, max_ack_pending: 20000 });
const consumer = await jetstream(nc).consumers.get(stream, durable);
const messages = await consumer.consume({ max_messages: 1000 });
let seen = 0;
for await (const message of messages) {
  JSON.parse(message.string());
  message.ack();
  if (++seen === Number(count)) break;
}
await nc.flush();
await nc.close();
`;

async function run(argv: string[], cwd: string, env?: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(argv, { cwd, stdout: "ignore", stderr: "pipe", ...(env ? { env } : {}) });
  const stderr = new Response(child.stderr).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await stderr}`);
  return (performance.now() - started) / 1000;
}

async function ackFloor(monitor: string, stream: string, durable: string): Promise<number> {
  const body = (await (await fetch(`${monitor}/jsz?streams=true&consumers=true`)).json()) as {
    account_details?: {
      stream_detail?: {
        name: string;
        consumer_detail?: { name: string; ack_floor: { stream_seq: number } }[];
      }[];
    }[];
  };
  const detail = body.account_details
    ?.flatMap((account) => account.stream_detail ?? [])
    .find((s) => s.name === stream);
  return (
    detail?.consumer_detail?.find((consumer) => consumer.name === durable)?.ack_floor.stream_seq ??
    0
  );
}

/** dstream's input runs until the durable's ack floor covers every message, then stops. */
async function consumeThroughDstream(
  binary: string,
  config: string,
  folder: string,
  monitor: string,
  stream: string,
  durable: string,
): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn([binary, "run", "consume", "-c", config, "--quiet"], {
    cwd: folder,
    stdout: "ignore",
    stderr: "pipe",
  });
  const deadline = Date.now() + 600_000;
  while ((await ackFloor(monitor, stream, durable)) < MESSAGES) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(
        `dstream run consume did not finish: ${await new Response(child.stderr).text()}`,
      );
    }
    await Bun.sleep(20);
  }
  const seconds = (performance.now() - started) / 1000;
  child.kill("SIGTERM");
  await child.exited;
  return seconds;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const rate = (seconds: number) => Math.round(MESSAGES / seconds).toLocaleString("en-US");

export default async function natsBench(): Promise<string> {
  const { url, monitor } = startServer();
  const binary = await buildBenchBinary();
  const folder = binary.folder;
  const events = join(folder, "events.jsonl");
  const bytes = await writeEvents(events);
  // The scripts import the client from the repository's node_modules.
  const publishPath = join(repoRoot, "scripts/bench/.nats-publish.tmp.ts");
  const consumePath = join(repoRoot, "scripts/bench/.nats-consume.tmp.ts");
  writeFileSync(publishPath, publishScript);
  writeFileSync(consumePath, consumeScript);
  const times = {
    publish: [] as number[],
    libraryPublish: [] as number[],
    consume: [] as number[],
    libraryConsume: [] as number[],
  };
  try {
    for (let round = 1; round <= RUNS; round++) {
      const ours = `BENCH_DSTREAM_${Date.now()}_${round}`;
      const theirs = `BENCH_LIBRARY_${Date.now()}_${round}`;
      const outputConfig = join(folder, "publish.hcl");
      const writeTask = (stream: string, init: boolean) =>
        writeFileSync(
          outputConfig,
          `task "publish" {\n  input {\n    provider = "file"\n    config {\n      path   = "${init ? join(folder, "empty.jsonl") : events}"\n      format = "raw"\n    }\n  }\n  output {\n    provider = "nats"\n    config {\n      servers = "${url}"\n      stream  = "${stream}"\n      subject = "${stream}.events"\n    }\n  }\n}\n`,
        );
      for (const stream of [ours, theirs]) {
        writeTask(stream, true);
        await run([binary.path, "init", "publish", "-c", outputConfig], folder);
      }
      writeTask(ours, false);
      times.libraryPublish.push(
        await run([process.execPath, publishPath, url, `${theirs}.events`, events], repoRoot),
      );
      await run(["rm", "-rf", join(folder, ".dstream")], folder);
      times.publish.push(
        await run([binary.path, "run", "publish", "-c", outputConfig, "--quiet"], folder),
      );

      times.libraryConsume.push(
        await run(
          [process.execPath, consumePath, url, theirs, "library", String(MESSAGES)],
          repoRoot,
        ),
      );
      const inputConfig = join(folder, "consume.hcl");
      writeFileSync(
        inputConfig,
        `task "consume" {\n  input {\n    provider = "nats"\n    config {\n      servers = "${url}"\n      stream  = "${ours}"\n      durable = "dstream"\n    }\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
      );
      await run(["rm", "-rf", join(folder, ".dstream")], folder);
      times.consume.push(
        await consumeThroughDstream(binary.path, inputConfig, folder, monitor, ours, "dstream"),
      );
      for (const stream of [ours, theirs]) {
        writeTask(stream, true);
        await run([binary.path, "destroy", "publish", "-c", outputConfig], folder);
      }
    }
  } finally {
    await run(["rm", "-f", publishPath, consumePath], repoRoot);
    binary.remove();
  }
  const publish = median(times.publish);
  const libraryPublish = median(times.libraryPublish);
  const consume = median(times.consume);
  const libraryConsume = median(times.libraryConsume);
  return `## NATS JetStream (issue 11)

${machineLine()}; Debian's nats-server with JetStream (file store) from test/services/nats.sh on the
same machine; ${MESSAGES.toLocaleString("en-US")} messages of ${Math.round(bytes / MESSAGES)} B; median of ${RUNS} interleaved runs.

| What | Seconds | Messages/s | Beside the library alone |
| --- | --- | --- | --- |
| a script on @nats-io/jetstream alone: publish, 4096 acks awaited at once | ${libraryPublish.toFixed(2)} | ${rate(libraryPublish)} | baseline |
| file (raw) -> nats through \`dstream run\` (every publish's ack before the checkpoint) | ${publish.toFixed(2)} | ${rate(publish)} | ${(libraryPublish / publish).toFixed(2)} |
| a script on @nats-io/jetstream alone: pull consumer, JSON.parse and ack on receipt | ${libraryConsume.toFixed(2)} | ${rate(libraryConsume)} | baseline |
| nats -> null through \`dstream run\`, until the durable's ack floor covers every message (acks only after dstream's commits) | ${consume.toFixed(2)} | ${rate(consume)} | ${(libraryConsume / consume).toFixed(2)} |

Both dstream figures include starting dstream and its two providers; the consume figure also the
commit round trip (checkpoint cadence 100 ms, state fsync) before any ack is sent.
`;
}
