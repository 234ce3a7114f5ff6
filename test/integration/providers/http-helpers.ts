// Drives the compiled http-poll and http providers over protocol v2 (envelope with checkpoint,
// commits on stdin) and splits what they write into events, checkpoints and other lines.
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import { ProviderProcess } from "./helpers.ts";

export interface Written {
  events: { data: unknown; metadata: Record<string, unknown> }[];
  checkpoints: unknown[];
  /** Lines that are neither (the handshake among them). */
  other: string[];
}

export function splitOutput(stdout: string): Written {
  const written: Written = { events: [], checkpoints: [], other: [] };
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    if (line.startsWith('{"checkpoint":')) written.checkpoints.push(JSON.parse(line).checkpoint);
    else if (line.startsWith('{"data":')) written.events.push(JSON.parse(line));
    else written.other.push(line);
  }
  return written;
}

export function envelope(config: Record<string, unknown>, checkpoint: unknown = null): string {
  return JSON.stringify({ command: "run", config, protocol: 2, checkpoint });
}

export async function startHttp(
  name: "http-poll" | "http",
  config: Record<string, unknown>,
  checkpoint: unknown = null,
  env: Record<string, string> = {},
): Promise<ProviderProcess> {
  const child = Bun.spawn([await dstreamBinary(), "__provider", name], {
    env: {
      ...baseEnv(),
      DSTREAM_TASK: "test",
      DSTREAM_ROLE: name === "http" ? "output" : "input",
      ...env,
    },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  }) as Bun.Subprocess<"pipe", "pipe", "pipe">;
  const provider = new ProviderProcess(child, true);
  provider.write(`${envelope(config, checkpoint)}\n`);
  return provider;
}

export interface PollResult extends Written {
  exitCode: number;
  stderr: string;
}

/** Runs http-poll to its end (poll_interval 0) and returns what it wrote. */
export async function poll(
  config: Record<string, unknown>,
  checkpoint: unknown = null,
  timeoutMs = 20_000,
): Promise<PollResult> {
  const provider = await startHttp("http-poll", { poll_interval: 0, ...config }, checkpoint);
  const finished = await provider.finish(timeoutMs);
  return { ...splitOutput(finished.stdout), exitCode: finished.exitCode, stderr: finished.stderr };
}

/** A Bun.serve on loopback for the duration of a test file. */
export function serve(
  fetch: (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response>,
) {
  return Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, idleTimeout: 0 });
}
