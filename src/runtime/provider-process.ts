// One provider child process: started in its own process group, sent its command envelope, its
// stderr forwarded with a [task/role] prefix and its last lines kept for error reports.
import { existsSync, readFileSync } from "node:fs";
import type { FileSink, Subprocess } from "bun";
import { waitAtMost } from "../bounded-wait.ts";
import { DstreamError, errorCode, messageOf } from "../errors.ts";
import { describeGroup, groupAlive, killGroup } from "./process-group.ts";
import type { ProviderExit } from "./provider-exit.ts";
import { forwardStderr, StderrTail } from "./provider-stderr.ts";

export interface ProviderLaunch {
  /** The task's name, for messages. */
  task: string;
  role: "input" | "output";
  /** How users know this provider: built-in name, path as written, or OCI reference. */
  label: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** The command envelope line, without its newline. */
  envelope: string;
  /** `[task/role]` */
  logPrefix: string;
}

/** A descriptor number hands the child one end of a pipe dstream made itself (the fast relay). */
export interface ProviderStdio {
  stdin: "pipe" | number;
  stdout: "pipe" | number;
}

/** How long what a provider left running after its exit may go on before it is killed. */
export const LEFTOVER_GRACE_MS = 2000;
/** Past that grace, how long its stderr may take to end (its leftovers killed) before it is let go. */
const STDERR_END_WAIT_MS = 1000;

export class ProviderProcess {
  readonly process: Subprocess;
  readonly tail = new StderrTail();
  /** Resolves once stderr has been read to its end. */
  readonly stderrDone: Promise<void>;

  constructor(
    readonly launch: ProviderLaunch,
    stdio: ProviderStdio = { stdin: "pipe", stdout: "pipe" },
    /** Told when processes the provider left behind were killed. */
    private readonly notice?: (line: string) => void,
  ) {
    try {
      this.process = Bun.spawn(launch.argv, {
        cwd: launch.cwd,
        env: launch.env,
        stdin: stdio.stdin,
        stdout: stdio.stdout,
        stderr: "pipe",
        // Own process group: a terminal's Ctrl-C reaches dstream only, which then stops providers in order.
        detached: process.platform !== "win32",
      });
    } catch (error) {
      throw new DstreamError(
        "PROVIDER_FAILED",
        `task "${launch.task}": cannot start ${launch.role} provider ${launch.label}: ${whyNotStarted(launch.argv[0] ?? "", error)}`,
        { cause: error },
      );
    }
    // With a dstream-made pipe the envelope was written into that pipe before the start.
    this.sendEnvelope();
    this.stderrDone = this.forwardStderr();
    void this.process.exited.then(() => this.reapLeftovers());
  }

  /**
   * Its exit ends its process group: what it started and left running (a background child, one
   * detached from its stdio) gets a short grace, then is killed and named. Such a child would
   * otherwise hold the run open through a pipe it inherited, or outlive dstream.
   */
  private async reapLeftovers(): Promise<void> {
    if (!groupAlive(this.pid)) return;
    await new Promise<void>((resolve) => setTimeout(resolve, LEFTOVER_GRACE_MS).unref());
    if (!groupAlive(this.pid)) return;
    const left = await describeGroup(this.pid);
    killGroup(this.pid);
    const { role, label } = this.launch;
    this.notice?.(
      `${role} provider ${label} exited, but processes it started were still running ${LEFTOVER_GRACE_MS / 1000} s later${left.length > 0 ? ` (${left.join(", ")})` : ""}; they were killed: a provider's children must end with it`,
    );
  }

  /** A provider may exit without reading its envelope (legal): a broken pipe here is ignored. */
  private sendEnvelope(): void {
    const stdin = this.stdin;
    if (!stdin) return;
    try {
      Promise.resolve(stdin.write(`${this.launch.envelope}\n`)).catch(() => {});
    } catch {
      // See above.
    }
  }

  /** Closes stdin (an input's, after its envelope); a provider already gone is not an error. */
  closeStdin(): void {
    try {
      Promise.resolve(this.stdin?.end()).catch(() => {});
    } catch {
      // A broken pipe surfaces either as a throw or as a rejected promise.
    }
  }

  get pid(): number {
    return this.process.pid;
  }

  get stdin(): FileSink | undefined {
    const stdin = this.process.stdin;
    return typeof stdin === "object" && stdin !== null ? stdin : undefined;
  }

  get stdout(): ReadableStream<Uint8Array> | undefined {
    const stdout = this.process.stdout;
    return stdout instanceof ReadableStream ? stdout : undefined;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Signals the provider's whole process group (its children too); ignores ones already gone. */
  signal(signal: "SIGTERM" | "SIGKILL"): void {
    if (!this.running) return;
    try {
      if (process.platform === "win32") this.process.kill(signal);
      else process.kill(-this.process.pid, signal);
    } catch {
      try {
        this.process.kill(signal);
      } catch {
        // Already exited between the check and the signal.
      }
    }
  }

  /**
   * How it exited, as soon as it did: its stderr may still be open (a child it left running holds
   * it until it is killed), so the tail may lack its last lines. For judging; reports use exited().
   */
  async exitStatus(): Promise<ProviderExit> {
    await this.process.exited;
    return this.exitNow();
  }

  /**
   * How it exited, once its stderr has ended too, so the tail is whole. A holder outside its
   * process group (never killed for it) is waited for a bounded time, then the tail taken as is.
   */
  async exited(): Promise<ProviderExit> {
    await this.process.exited;
    await waitAtMost(this.stderrDone, LEFTOVER_GRACE_MS + STDERR_END_WAIT_MS);
    return this.exitNow();
  }

  private exitNow(): ProviderExit {
    const signal = this.process.signalCode;
    return {
      exitCode: this.process.exitCode,
      signal: signal === null ? null : String(signal),
      stderrTail: this.tail.snapshot(),
    };
  }

  private async forwardStderr(): Promise<void> {
    const stderr = this.process.stderr;
    if (stderr instanceof ReadableStream) {
      await forwardStderr(stderr, this.launch.logPrefix, this.tail);
    }
  }
}

/** Why exec refused a provider, in words: ENOENT for a file that exists means its #! interpreter. */
function whyNotStarted(path: string, error: unknown): string {
  const code = errorCode(error);
  if (code === "ENOENT" && existsSync(path)) {
    const firstLine = readFileSync(path).subarray(0, 200).toString("utf8").split("\n")[0] ?? "";
    if (firstLine.startsWith("#!") && firstLine.endsWith("\r")) {
      return "its #! line ends in a carriage return (\\r): save it with Unix line endings (LF)";
    }
    const interpreter = firstLine.startsWith("#!") ? ` ${firstLine.slice(2).trim()}` : "";
    return `its interpreter${interpreter} was not found (check the #! line)`;
  }
  if (code === "ENOEXEC") {
    return "the system cannot run it (a binary for another platform, or a script without a #! line)";
  }
  if (code === "EACCES")
    return "permission denied (is it executable, on a filesystem mounted noexec?)";
  return messageOf(error);
}
