// The real Kafka broker for the kafka tests (test/services/kafka.sh), and kcat, the client that
// checks what dstream wrote and feeds what it reads. Topic setup goes through the client library.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Admin } from "@platformatic/kafka";
import { type RunResult, runProcess } from "../../helpers/binary.ts";
import type { ProviderProcess } from "./helpers.ts";

const repoRoot = resolve(import.meta.dir, "../../..");

let broker: string | undefined;

/** Starts the broker once (the script is idempotent) and returns its "127.0.0.1:port". */
export async function startKafka(): Promise<string> {
  if (broker) return broker;
  const started = Bun.spawnSync(["bash", resolve(repoRoot, "test/services/kafka.sh")], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
  if (started.exitCode !== 0) throw new Error(`kafka.sh failed: ${started.stderr.toString()}`);
  broker = started.stdout.toString().trim().split("\n").pop() as string;
  return broker;
}

/** The SASL_PLAINTEXT listener kafka.sh opens two ports above the plaintext one, and its user. */
export async function saslBroker(): Promise<string> {
  const [host, port] = (await startKafka()).split(":");
  return `${host}:${Number(port) + 2}`;
}
export const saslUser = { username: "dstream", password: "dstream-secret" };

/** The SSL listener (three ports above), and the PEM of its self-signed certificate. */
export async function tlsBroker(): Promise<{ address: string; caFile: string }> {
  const [host, port] = (await startKafka()).split(":");
  const run = process.env.DSTREAM_KAFKA_RUN ?? `/tmp/dstream-kafka-${port}`;
  return { address: `${host}:${Number(port) + 3}`, caFile: `${run}/tls/ca.pem` };
}

/** A broker of one test file's own (to freeze, stop or reconfigure), apart from the shared one. */
export interface OwnKafka {
  address: string;
  /** kafka.sh's run folder: log dirs under data/, the pid in pid. */
  runDir: string;
  pid: number;
  /** Resumes it if frozen, then stops it and removes its run folder. */
  stop(): void;
}

const kafkaScript = resolve(repoRoot, "test/services/kafka.sh");

/** Starts a broker on `port` (and the three above it) with kafka.sh. */
export function startOwnKafka(
  port: number,
  options: { autoCreateTopics?: boolean } = {},
): OwnKafka {
  const runDir = `/tmp/dstream-kafka-test-${port}`;
  const env = {
    ...process.env,
    DSTREAM_KAFKA_PORT: String(port),
    DSTREAM_KAFKA_RUN: runDir,
    DSTREAM_KAFKA_AUTO_CREATE_TOPICS: String(options.autoCreateTopics ?? false),
  } as Record<string, string>;
  const service = (...args: string[]) => {
    const result = Bun.spawnSync(["bash", kafkaScript, ...args], {
      env,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 300_000,
    });
    if (result.exitCode !== 0) {
      throw new Error(`kafka.sh ${args.join(" ")} failed: ${result.stderr.toString()}`);
    }
  };
  service();
  const pid = Number(readFileSync(`${runDir}/pid`, "utf8").trim());
  return {
    address: `127.0.0.1:${port}`,
    runDir,
    pid,
    stop() {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Already gone.
      }
      service("stop");
    },
  };
}

/** Runs kcat against the broker at `address`. */
export async function kcatAt(address: string, args: string[], input?: string): Promise<KcatResult> {
  return runProcess(["kcat", "-b", address, ...args], {
    ...(input === undefined ? {} : { stdin: input }),
    timeoutMs: 60_000,
  });
}

let topicCount = 0;

/** A fresh topic name for one test. */
export function uniqueTopic(label: string): string {
  return `dstream-${label}-${process.pid}-${Date.now()}-${++topicCount}`;
}

export async function createTopic(
  topic: string,
  partitions = 1,
  configs: { name: string; value: string }[] = [],
): Promise<void> {
  const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [await startKafka()] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs });
  } finally {
    await admin.close();
  }
  // A new topic's partitions get their leader a moment later; kcat waits for it on its own schedule.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const metadata = await kcat(["-L", "-t", topic]);
    const leaders = metadata.stdout.match(/partition \d+, leader 1,/g)?.length ?? 0;
    if (leaders === partitions) return;
    if (Date.now() > deadline)
      throw new Error(`topic ${topic} has no leader after 30 s:\n${metadata.stdout}`);
    await Bun.sleep(100);
  }
}

export type KcatResult = RunResult;

/** Runs kcat against the test broker with `args`, `input` on its stdin. */
export async function kcat(args: string[], input?: string): Promise<KcatResult> {
  return kcatAt(await startKafka(), args, input);
}

/** Every message of `topic` as "partition offset key value" lines, sorted, read by kcat. */
export async function readTopic(topic: string, format = "%p %k %s\\n"): Promise<string[]> {
  const result = await kcat(["-C", "-t", topic, "-e", "-q", "-f", format]);
  if (result.exitCode !== 0) throw new Error(`kcat -C failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

/** Messages in a one-partition topic: its last offset + 1 (reading it all chases a growing log). */
export async function messageCount(topic: string): Promise<number> {
  const result = await kcat(["-C", "-t", topic, "-o", "-1", "-c", "1", "-e", "-q", "-f", "%o"]);
  return result.stdout === "" ? 0 : Number(result.stdout) + 1;
}

/** Produces `lines` to `topic` with kcat (one message per line), compressed with `codec`. */
export async function produce(
  topic: string,
  lines: string[],
  codec = "none",
  extra: string[] = [],
): Promise<void> {
  const result = await kcat(["-P", "-t", topic, "-z", codec, ...extra], `${lines.join("\n")}\n`);
  if (result.exitCode !== 0 || result.stderr.includes("ERROR")) {
    throw new Error(`kcat -P failed: ${result.stderr}`);
  }
}

/** What a consumer of `group` gets from its committed offsets on: kcat joins the group and reads. */
export async function readFromGroup(group: string, topic: string): Promise<string[]> {
  const result = await kcat([
    "-G",
    group,
    "-X",
    "enable.auto.commit=false",
    "-X",
    "auto.offset.reset=earliest",
    "-e",
    "-q",
    "-f",
    "%s\\n",
    topic,
  ]);
  if (result.exitCode !== 0) throw new Error(`kcat -G failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

export function envelope(config: Record<string, unknown>, checkpoint: unknown = null): string {
  return JSON.stringify({ command: "run", config, protocol: 2, checkpoint });
}

/**
 * Waits until `group` is stable with `members` members, each assigned at least one partition: a
 * rebalance on a loaded machine takes as long as it takes, and a fixed sleep guesses.
 */
export async function waitForGroupMembers(group: string, members: number): Promise<void> {
  const admin = new Admin({ clientId: "dstream-test", bootstrapBrokers: [await startKafka()] });
  const deadline = Date.now() + 60_000;
  let seen = "not described yet";
  try {
    for (;;) {
      const described = (await admin.describeGroups({ groups: [group] })).get(group);
      const assigned = [...(described?.members.values() ?? [])].filter((member) =>
        [...(member.assignments?.values() ?? [])].some((entry) => entry.partitions.length > 0),
      );
      seen = `${described?.state}, ${assigned.length} of ${described?.members.size ?? 0} members assigned`;
      if (/^stable$/i.test(String(described?.state)) && assigned.length === members) return;
      if (Date.now() > deadline)
        throw new Error(`group ${group} not stable with ${members} members: ${seen}`);
      await Bun.sleep(200);
    }
  } finally {
    await admin.close();
  }
}

const readyLine = '{"status":"ready","protocol":2}';

/** One line the kafka input wrote: an event or a checkpoint. */
export interface InputLine {
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

export function linesOf(provider: ProviderProcess): InputLine[] {
  return provider.stdout
    .split("\n")
    .filter((line) => line !== "" && line !== readyLine)
    .map((line) => JSON.parse(line) as InputLine);
}

/** Waits until the input wrote `events` events and a checkpoint after the last of them. */
export async function waitForEvents(
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

/** SIGTERM, then the exit (killed past 30 s). */
export async function stopProvider(provider: ProviderProcess) {
  provider.child.kill("SIGTERM");
  return provider.finish(30_000);
}

export const lastCheckpoint = (lines: InputLine[]) =>
  lines.filter((line) => line.checkpoint).pop()?.checkpoint;
