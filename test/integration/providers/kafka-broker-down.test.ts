// A Kafka broker stopped mid-run (a second broker of the tests' own, on another port): the output
// and the input fail within a bounded time with one line naming the brokers, rather than wait.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { Admin } from "@platformatic/kafka";
import { dstreamBinary } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import { envelope } from "./kafka-helpers.ts";

const script = resolve(import.meta.dir, "../../../test/services/kafka.sh");
const PORT = "39192";
const env = { ...process.env, DSTREAM_KAFKA_PORT: PORT } as Record<string, string>;
const broker = `127.0.0.1:${PORT}`;

function service(...args: string[]) {
  const result = Bun.spawnSync(["bash", script, ...args], {
    env,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 300_000,
  });
  if (result.exitCode !== 0) throw new Error(`kafka.sh ${args.join(" ")} failed: ${result.stderr}`);
}

let binary = "";
beforeAll(async () => {
  binary = await dstreamBinary();
}, 600_000);
afterAll(() => service("stop"));

async function createTopic(topic: string) {
  const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [broker] });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
  await Bun.sleep(1000);
}

test("output: the broker stops mid-run; the run fails within connect_timeout_ms and a margin, naming the brokers", async () => {
  service();
  await createTopic("down-out");
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "output",
    firstLine: envelope({ bootstrap_servers: broker, topic: "down-out", connect_timeout_ms: 3000 }),
  });
  let sequence = 0;
  let exited = false;
  void provider.child.exited.then(() => {
    exited = true;
  });
  // Written by hand: a write after the provider exited must not fail the test (EPIPE).
  const write = (text: string) => {
    if (exited) return;
    try {
      provider.child.stdin.write(text);
      const flushed = provider.child.stdin.flush();
      if (flushed instanceof Promise) flushed.catch(() => {});
    } catch {
      exited = true;
    }
  };
  const writeSome = () => {
    for (let index = 0; index < 50; index++) {
      sequence++;
      write(`${JSON.stringify({ data: { sequence }, metadata: { sequence } })}\n`);
    }
    write(`{"checkpoint":${sequence}}\n`);
  };
  writeSome();
  await provider.waitForLines(2, 20_000);
  service("stop");
  const stoppedAt = Date.now();
  const feeding = setInterval(writeSome, 200);
  const result = await provider.finish(60_000);
  clearInterval(feeding);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toMatch(
    /^error: kafka: cannot reach the brokers 127\.0\.0\.1:39192 .*check bootstrap_servers and that Kafka is running\n$/,
  );
  expect(Date.now() - stoppedAt).toBeLessThan(30_000);
}, 120_000);

test("input: the broker stops mid-run; the input fails within a bound, naming the brokers", async () => {
  service();
  await createTopic("down-in");
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "input",
    firstLine: envelope({
      bootstrap_servers: broker,
      topics: ["down-in"],
      group_id: "down",
      connect_timeout_ms: 3000,
      session_timeout_ms: 6000,
    }),
  });
  await provider.waitForLines(1, 20_000);
  await Bun.sleep(3000);
  service("stop");
  const stoppedAt = Date.now();
  const result = await provider.finish(60_000);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toMatch(/^error: kafka: cannot reach the brokers 127\.0\.0\.1:39192 .*\n$/);
  expect(Date.now() - stoppedAt).toBeLessThan(30_000);
}, 120_000);
