// Starts built-in providers as real child processes (from source and from the compiled binary) and
// speaks protocol v1 to them: envelope on stdin, data after it, signals, bounded waits.
import { join, resolve } from "node:path";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";

const repoRoot = resolve(import.meta.dir, "../../..");

export interface ProviderLauncher {
  label: string;
  /** The command line that runs built-in `name`. */
  command(name: string): Promise<string[]>;
}

export const launchers: ProviderLauncher[] = [
  {
    label: "from source",
    command: async (name) => [
      process.execPath,
      join(repoRoot, "src/cli/main.ts"),
      "__provider",
      name,
    ],
  },
  {
    label: "compiled binary",
    command: async (name) => [await dstreamBinary(), "__provider", name],
  },
];

export interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class ProviderProcess {
  readonly child: Bun.Subprocess<"pipe", "pipe", "pipe">;
  #stdoutChunks: Uint8Array[] = [];
  #stdoutText: string | undefined;
  #stderr = "";
  readonly #reading: Promise<void>;

  constructor(child: Bun.Subprocess<"pipe", "pipe", "pipe">, readStdout: boolean) {
    this.child = child;
    const collectStdout = readStdout ? this.#collectStdout() : Promise.resolve();
    this.#reading = Promise.all([collectStdout, this.#collectStderr()]).then(() => {});
  }

  get stdout(): string {
    this.#stdoutText ??= Buffer.concat(this.#stdoutChunks).toString("utf8");
    return this.#stdoutText;
  }

  write(text: string | Uint8Array): void {
    this.child.stdin.write(text);
    this.child.stdin.flush();
  }

  end(): void {
    this.child.stdin.end();
  }

  /** Waits until stdout holds `count` newlines; fails after `timeoutMs`. */
  async waitForLines(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.stdout.split("\n").length - 1 < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `took too long: ${count} stdout lines expected, got:\n${this.stdout}\n${this.#stderr}`,
        );
      }
      await Bun.sleep(10);
    }
  }

  /** Waits for the exit (killing the child past `timeoutMs`) and returns all it wrote. */
  async finish(timeoutMs = 20_000): Promise<Finished> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const exitCode = await this.child.exited;
    clearTimeout(timer);
    await this.#reading;
    if (this.child.signalCode === "SIGKILL")
      throw new Error(`took too long: killed after ${timeoutMs} ms`);
    return { exitCode, stdout: this.stdout, stderr: this.#stderr };
  }

  async #collectStdout(): Promise<void> {
    for await (const chunk of this.child.stdout) {
      this.#stdoutChunks.push(chunk);
      this.#stdoutText = undefined;
    }
  }

  async #collectStderr(): Promise<void> {
    this.#stderr = await new Response(this.child.stderr).text();
  }
}

export interface StartOptions {
  role?: "input" | "output";
  command?: string;
  config?: Record<string, unknown>;
  /** Raw first line instead of a command envelope built from command/config. */
  firstLine?: string;
  cwd?: string;
  /** A file descriptor for the provider's stdout instead of a pipe read by the test. */
  stdoutFd?: number;
}

/** Starts a provider and writes its command envelope. */
export function startProvider(commandLine: string[], options: StartOptions = {}): ProviderProcess {
  const env: Record<string, string> = { ...baseEnv(), DSTREAM_TASK: "test" };
  if (options.role) env.DSTREAM_ROLE = options.role;
  const child = Bun.spawn(commandLine, {
    cwd: options.cwd ?? repoRoot,
    env,
    stdin: "pipe",
    stdout: options.stdoutFd ?? "pipe",
    stderr: "pipe",
  }) as Bun.Subprocess<"pipe", "pipe", "pipe">;
  const provider = new ProviderProcess(child, options.stdoutFd === undefined);
  const firstLine =
    options.firstLine ??
    JSON.stringify({ command: options.command ?? "run", config: options.config ?? {} });
  provider.write(`${firstLine}\n`);
  return provider;
}

/** Runs a provider to its end with `input` after the envelope on stdin. */
export async function runToEnd(
  commandLine: string[],
  options: StartOptions & { input?: string | Uint8Array },
): Promise<Finished> {
  const provider = startProvider(commandLine, options);
  if (options.input !== undefined) provider.write(options.input);
  provider.end();
  return provider.finish();
}

/** Resident memory of a process in bytes, from /proc. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export const ready = '{"status":"ready"}\n';
