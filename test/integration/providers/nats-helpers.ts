// The real nats-server for the nats tests (test/services/nats.sh) and its HTTP monitoring endpoint,
// which tells what a stream holds and what a durable consumer has acked.
import { resolve } from "node:path";
import { type ProviderProcess, startProvider } from "./helpers.ts";

const repoRoot = resolve(import.meta.dir, "../../..");

let server: { url: string; monitor: string } | undefined;

export function startNats(): { url: string; monitor: string } {
  if (server) return server;
  const started = Bun.spawnSync(["bash", resolve(repoRoot, "test/services/nats.sh")], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 300_000,
  });
  if (started.exitCode !== 0) throw new Error(`nats.sh failed: ${started.stderr.toString()}`);
  const [url, monitor] = started.stdout.toString().trim().split("\n").pop()?.split(" ") ?? [];
  if (!url || !monitor) throw new Error(`nats.sh printed no address: ${started.stdout}`);
  server = { url, monitor };
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
export async function streamDetail(stream: string): Promise<StreamDetail | undefined> {
  const response = await fetch(
    `${startNats().monitor}/jsz?streams=true&consumers=true&config=true`,
  );
  const body = (await response.json()) as {
    account_details?: { stream_detail?: StreamDetail[] }[];
  };
  return body.account_details
    ?.flatMap((account) => account.stream_detail ?? [])
    .find((detail) => detail.name === stream);
}

export async function consumerDetail(stream: string, durable: string) {
  return (await streamDetail(stream))?.consumer_detail?.find(
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
