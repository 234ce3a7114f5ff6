// The real nats-server for the nats tests (test/services/nats.sh) and its HTTP monitoring endpoint,
// which tells what a stream holds and what a durable consumer has acked; a test's own servers on
// other ports (to stop mid-run, or with a password), and a client to read and feed streams.
import { resolve } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type ProviderProcess, startProvider } from "./helpers.ts";

const repoRoot = resolve(import.meta.dir, "../../..");

export interface NatsAddress {
  url: string;
  monitor: string;
}

/** Runs test/services/nats.sh with `args`; `env` picks the port and the login. */
export function natsService(env: Record<string, string>, ...args: string[]): NatsAddress {
  const ran = Bun.spawnSync(["bash", resolve(repoRoot, "test/services/nats.sh"), ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 300_000,
  });
  if (ran.exitCode !== 0) {
    throw new Error(`nats.sh ${args.join(" ")} failed: ${ran.stderr.toString()}`);
  }
  if (args.length > 0) return { url: "", monitor: "" };
  const [url, monitor] = ran.stdout.toString().trim().split("\n").pop()?.split(" ") ?? [];
  if (!url || !monitor) throw new Error(`nats.sh printed no address: ${ran.stdout}`);
  return { url, monitor };
}

let server: NatsAddress | undefined;

/** The shared server, started once (a second nats.sh finds it running). */
export function startNats(): NatsAddress {
  server ??= natsService({});
  return server;
}

let streamCount = 0;

export function uniqueName(label: string): string {
  return `${label}_${process.pid}_${Date.now()}_${++streamCount}`;
}

interface StreamDetail {
  name: string;
  config?: { subjects?: string[] };
  state: { messages: number; bytes: number; first_seq: number; last_seq: number };
  consumer_detail?: {
    name: string;
    num_ack_pending: number;
    num_pending: number;
    num_redelivered: number;
    ack_floor: { stream_seq: number };
    delivered: { stream_seq: number };
  }[];
}

/** The stream as the monitoring endpoint shows it, or undefined when the server has no such stream. */
export async function streamDetail(
  stream: string,
  monitor = startNats().monitor,
): Promise<StreamDetail | undefined> {
  const response = await fetch(`${monitor}/jsz?streams=true&consumers=true&config=true`);
  const body = (await response.json()) as {
    account_details?: { stream_detail?: StreamDetail[] }[];
  };
  return body.account_details
    ?.flatMap((account) => account.stream_detail ?? [])
    .find((detail) => detail.name === stream);
}

export async function consumerDetail(stream: string, durable: string, monitor?: string) {
  return (await streamDetail(stream, monitor))?.consumer_detail?.find(
    (consumer) => consumer.name === durable,
  );
}

export function envelope(config: Record<string, unknown>, checkpoint: unknown = null): string {
  return JSON.stringify({ command: "run", config, protocol: 2, checkpoint });
}

/** Runs the nats output to its end with `lines` on stdin (or a lifecycle `command`). */
export async function runNatsOutput(
  binary: string,
  config: Record<string, unknown>,
  lines: string[],
  command = "run",
) {
  const full = { servers: startNats().url, ...config };
  const provider = startProvider([binary, "__provider", "nats"], {
    role: "output",
    firstLine: command === "run" ? envelope(full) : JSON.stringify({ command, config: full }),
  });
  if (lines.length > 0) provider.write(`${lines.join("\n")}\n`);
  provider.end();
  return provider.finish(60_000);
}

export function startNatsInput(
  binary: string,
  config: Record<string, unknown>,
  checkpoint: unknown = null,
): ProviderProcess {
  return startProvider([binary, "__provider", "nats"], {
    role: "input",
    firstLine: envelope({ servers: startNats().url, ...config }, checkpoint),
  });
}

export interface ClientOptions {
  url?: string;
  user?: string;
  password?: string;
}

async function withClient<T>(
  options: ClientOptions,
  use: (connection: NatsConnection) => Promise<T>,
): Promise<T> {
  const connection = await connect({
    servers: options.url ?? startNats().url,
    timeout: 10_000,
    ...(options.user ? { user: options.user, pass: options.password ?? "" } : {}),
  });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/** Creates `stream` for `subjects` with the client, not with dstream. */
export function createStreamWithClient(
  stream: string,
  subjects: string[],
  options: ClientOptions = {},
): Promise<void> {
  return withClient(options, async (connection) => {
    await (await jetstreamManager(connection)).streams.add({ name: stream, subjects });
  });
}

export function deleteStreamWithClient(stream: string, options: ClientOptions = {}): Promise<void> {
  return withClient(options, async (connection) => {
    await (await jetstreamManager(connection)).streams.delete(stream);
  });
}

/** Publishes `payloads` to `subject` with JetStream acks, in order, 500 at a time, `pauseMs` apart. */
export function publishWithClient(
  subject: string,
  payloads: string[],
  options: ClientOptions & { pauseMs?: number } = {},
): Promise<void> {
  return withClient(options, async (connection) => {
    const js = jetstream(connection);
    for (let start = 0; start < payloads.length; start += 500) {
      if (start > 0 && options.pauseMs) await Bun.sleep(options.pauseMs);
      await Promise.all(
        payloads.slice(start, start + 500).map((payload) => js.publish(subject, payload)),
      );
    }
  });
}

/** Every message the stream holds, as text, in stream order; bounded by `timeoutMs`. */
export function readStreamWithClient(
  stream: string,
  options: ClientOptions = {},
  timeoutMs = 30_000,
): Promise<string[]> {
  return withClient(options, async (connection) => {
    const info = await (await jetstreamManager(connection)).streams.info(stream);
    const last = info.state.last_seq;
    const texts: string[] = [];
    if (info.state.messages === 0) return texts;
    const consumer = await jetstream(connection).consumers.get(stream);
    const messages = await consumer.consume();
    const timer = setTimeout(() => void messages.close(), timeoutMs);
    for await (const message of messages) {
      texts.push(message.string());
      if (message.seq >= last) break;
    }
    clearTimeout(timer);
    if (texts.length < info.state.messages) {
      throw new Error(`took too long: read ${texts.length} of ${info.state.messages} messages`);
    }
    return texts;
  });
}
