// One run of a task on the main thread: starts both providers, relays the input's lines into the
// output (raw pipes on the relay worker, or Bun streams here), carries checkpoints (protocol v2)
// from the relay and the output's echoes to the state and the input's commits, stops them in
// order, and reports how each ended. Every failure path ends with a bounded wait, then SIGKILL.
import type { ErrorCode } from "../errors.ts";
import { commitLine, type Handshake } from "../protocol/index.ts";
import {
  type ChunkReader,
  closeQuietly,
  createOsPipe,
  discard,
  markCommitted,
  markInputEnd,
  type OsPipe,
  type PumpLimits,
  type Relay,
  type RelayEvents,
  type RelayResult,
  readFirstLine,
  startFdRelay,
  startStreamRelay,
  unreadPipeBytes,
} from "../relay/index.ts";
import { endedCleanly, exitWithin, OUTPUT_EXIT_WAIT_MS, settlesWithin } from "./bounded-waits.ts";
import { CheckpointFlow, type CommittedCheckpoint } from "./checkpoint-flow.ts";
import { EchoSplitter } from "./echo-splitter.ts";
import { ProtocolNegotiation } from "./protocol-negotiation.ts";
import {
  describeExit,
  type ProviderExit,
  type ProviderLaunch,
  ProviderProcess,
} from "./provider-process.ts";
import { startWatchdog } from "./watchdog.ts";

export interface SessionConfig {
  input: ProviderLaunch;
  output: ProviderLaunch;
  limits: PumpLimits;
  counters: SharedArrayBuffer;
  /** After a failure, how long the providers get to end before SIGKILL. */
  stopTimeoutMs: number;
  /** Tells the user about a wait that is taking long, or a weaker guarantee (not a failure). */
  notice?: (line: string) => void;
  /** Makes an acknowledged checkpoint durable in the task's state (protocol v2). */
  persistCheckpoint: (checkpoint: CommittedCheckpoint) => Promise<void>;
}

export interface SessionFailure {
  code: ErrorCode;
  message: string;
  /** Whose stderr tail explains the failure. */
  role?: "input" | "output";
}

export interface SessionReport {
  input: ProviderExit;
  output: ProviderExit;
  failure?: SessionFailure;
  /** Lines handed to the output. */
  relayedLines: number;
  /** Lines read from the input but not delivered when the session ended. */
  inFlightLines: number;
  inFlightBytes: number;
  /** The input's last line, cut off mid-line by its crash or kill: dropped, not delivered. */
  cutLineBytes: number;
  /** Relayed into the output's stdin, but unread when dstream had to kill it: lost (Linux). */
  outputUnreadBytes?: number;
  /** The protocols the providers spoke (undefined: never known, e.g. a provider that said nothing). */
  protocols: { input?: 1 | 2; output?: 1 | 2 };
  /** The last checkpoint committed in this run. */
  committed?: CommittedCheckpoint;
  /** Milliseconds from the relay meeting each committed checkpoint to its commit. */
  commitDelaysMs: number[];
}

export class Session {
  private failure: SessionFailure | undefined;
  private stopRequested = false;
  private input: ProviderProcess | undefined;
  private output: ProviderProcess | undefined;
  private relayEnded = false;
  private killTimer: Timer | undefined;
  /** Bytes relayed into the output's stdin but still unread when it was killed (Linux). */
  private outputUnreadBytes: number | undefined;
  private readonly negotiation: ProtocolNegotiation;
  private readonly checkpoints: CheckpointFlow;
  /** A commit line waiting for the input's stdin to take the one before (commits are cumulative). */
  private commitWaiting: string | undefined;
  private commitWriting = false;

  constructor(private readonly config: SessionConfig) {
    this.negotiation = new ProtocolNegotiation(
      config.counters,
      { input: config.input.label, output: config.output.label },
      {
        closeInputStdin: () => this.input?.closeStdin(),
        notice: (line) => config.notice?.(line),
      },
    );
    this.checkpoints = new CheckpointFlow({
      persist: config.persistCheckpoint,
      sendCommit: (value) => this.sendCommit(value),
      onCommitted: (checkpoint) => markCommitted(config.counters, checkpoint.events, checkpoint.at),
      onFailure: (message) =>
        this.fail({
          code: message.startsWith("echoed") ? "PROVIDER_FAILED" : "STATE",
          ...(message.startsWith("echoed") ? { role: "output" as const } : {}),
          message: message.startsWith("echoed")
            ? `output provider ${config.output.label} ${message}`
            : message,
        }),
    });
  }

  /** Writes a commit line on the v2 input's stdin; while one is pending only the newest waits. */
  private sendCommit(value: string): void {
    if (!this.negotiation.inputListens || !this.input?.running) return;
    this.commitWaiting = commitLine(JSON.parse(value));
    if (this.commitWriting) return;
    this.commitWriting = true;
    void (async () => {
      try {
        while (this.commitWaiting !== undefined) {
          const line = this.commitWaiting;
          this.commitWaiting = undefined;
          const stdin = this.input?.stdin;
          if (!stdin || !this.input?.running) return;
          const written = stdin.write(line);
          if (typeof written !== "number") await written;
          await stdin.flush();
        }
      } catch {
        // The input closed its stdin or exited: it must not assume it sees every commit.
      } finally {
        this.commitWriting = false;
        this.commitWaiting = undefined;
      }
    })();
  }

  /** Graceful stop: the input is asked to end; everything it wrote is still delivered. */
  stop(): void {
    this.stopRequested = true;
    this.input?.signal("SIGTERM");
  }

  kill(): void {
    this.input?.signal("SIGKILL");
    const output = this.output;
    if (output?.running) {
      // What it had not read yet dies with it: measured first, so the report can say so.
      this.outputUnreadBytes ??= unreadPipeBytes(output.pid);
      output.signal("SIGKILL");
    }
  }

  /** Records the first failure and stops the input; SIGKILL follows if they linger. */
  private fail(failure: SessionFailure): void {
    this.failure ??= failure;
    this.input?.signal("SIGTERM");
    this.killTimer ??= setTimeout(() => this.kill(), this.config.stopTimeoutMs);
  }

  async run(): Promise<SessionReport> {
    const { input, output, relay } = this.start();
    const watchdog = startWatchdog([input.pid, output.pid]);
    if (this.stopRequested) input.signal("SIGTERM");

    const outputCopy = this.copyOutputStdout(output);
    void this.negotiation.outputProtocol.then((protocol) =>
      this.checkpoints.outputDecided(protocol),
    );
    const inputExit = input.exited();
    void inputExit.then((exit) => {
      // The relay keeps a last line without newline only from an input that ended cleanly.
      markInputEnd(this.config.counters, exit.exitCode === 0);
      // A failed input fails the run now: the stop timer then bounds the wait for the output.
      this.judgeInputExit(exit);
    });
    const outputExit = output.exited();
    // An output that ends while the input still sends: nothing more can be delivered. Its exit can
    // overtake the relay's own report of a clean end, so that report gets a moment to arrive.
    void outputExit.then(async (exit) => {
      if (this.relayEnded) return;
      if (await settlesWithin(relay.result, OUTPUT_EXIT_WAIT_MS)) return;
      this.fail({
        code: "PROVIDER_FAILED",
        role: "output",
        message: `output provider ${this.config.output.label} ${describeExit(exit)} while the input was still sending`,
      });
    });

    let result: RelayResult | undefined;
    try {
      result = await relay.result;
      await this.judgeRelay(result, output);
    } catch (error) {
      this.fail({
        code: "INTERNAL",
        message: error instanceof Error ? error.message : String(error),
      });
      this.kill();
    }
    this.relayEnded = true;
    // An input that closed its stdout but lives on would hold the run open forever.
    const lingerTimer = setTimeout(() => {
      if (!input.running) return;
      this.fail({
        code: "PROVIDER_FAILED",
        role: "input",
        message: `input provider ${this.config.input.label} closed its stdout but did not exit within ${this.config.stopTimeoutMs / 1000} s`,
      });
    }, this.config.stopTimeoutMs);
    // The stream relay leaves the output's stdin open: closing it is the output's EOF.
    try {
      await output.stdin?.end();
    } catch {
      // The output is gone already; its exit status tells the story.
    }
    // An output may take long to flush after its EOF, so it is not killed; but the wait is told.
    const slowOutputTimer = setTimeout(() => {
      if (!output.running || this.failure) return;
      this.config.notice?.(
        `output provider ${this.config.output.label} has not exited ${this.config.stopTimeoutMs / 1000} s after the end of its input; still waiting (a stop signal ends it)`,
      );
    }, this.config.stopTimeoutMs);
    const [inputResult, outputResult] = await Promise.all([inputExit, outputExit]);
    clearTimeout(lingerTimer);
    clearTimeout(slowOutputTimer);
    await outputCopy;
    if (outputResult.exitCode === 0) this.checkpoints.outputEndedCleanly();
    // Every echo has been read: what was acknowledged is made durable before the run reports.
    await this.checkpoints.settled();
    this.input?.closeStdin();
    this.negotiation.dispose();
    relay.dispose();
    clearTimeout(this.killTimer);
    watchdog.release();
    this.judgeExits(inputResult, outputResult);
    this.judgeEchoes();
    const protocols = {
      ...(this.negotiation.inputProtocol ? { input: this.negotiation.inputProtocol } : {}),
      ...(this.outputProtocolKnown ? { output: this.outputProtocolKnown } : {}),
    };
    return {
      input: inputResult,
      output: outputResult,
      ...(this.failure ? { failure: this.failure } : {}),
      relayedLines: result?.lines ?? 0,
      inFlightLines: result?.inFlightLines ?? 0,
      inFlightBytes: result?.inFlightBytes ?? 0,
      cutLineBytes: result?.cutLineBytes ?? 0,
      ...(this.outputUnreadBytes ? { outputUnreadBytes: this.outputUnreadBytes } : {}),
      protocols,
      ...(this.checkpoints.committed ? { committed: this.checkpoints.committed } : {}),
      commitDelaysMs: this.checkpoints.commitDelaysMs,
    };
  }

  /** The output's protocol, once its first line (or the wait for it) decided. */
  private outputProtocolKnown: 1 | 2 | undefined;

  /** Echoes of checkpoints never sent: a broken v2 output (a clean run must not hide it). */
  private judgeEchoes(): void {
    const unmatched = this.checkpoints.unmatchedEchoes();
    if (unmatched.length === 0) return;
    this.fail({
      code: "PROVIDER_FAILED",
      role: "output",
      message: `output provider ${this.config.output.label} echoed checkpoint ${unmatched[0]?.slice(0, 80)} that it was never sent`,
    });
    clearTimeout(this.killTimer);
  }

  /** Starts output then input, wired by raw pipes when available, else by Bun's pipes. */
  private start(): { input: ProviderProcess; output: ProviderProcess; relay: Relay } {
    const { config } = this;
    const events: RelayEvents = {
      onInputFirstLine: (handshake) => this.inputFirstLine(handshake),
      onCheckpoint: (checkpoint) => this.checkpoints.relayed(checkpoint),
    };
    const fromInput = createOsPipe();
    const toOutput = fromInput ? createOsPipe() : undefined;
    if (!fromInput || !toOutput) {
      if (fromInput) [fromInput.read, fromInput.write].forEach(closeQuietly);
      const output = new ProviderProcess(config.output);
      this.output = output;
      const input = this.startInput({ stdin: "pipe", stdout: "pipe" });
      const sink = output.stdin;
      const stdout = input.stdout;
      if (!sink || !stdout) throw new Error("provider pipes are missing");
      return {
        input,
        output,
        relay: startStreamRelay(
          stdout,
          sink,
          config.limits,
          config.counters,
          events,
          () => endedCleanly(input),
          () => this.negotiation.decidedOutput,
        ),
      };
    }
    const ourEnds = [fromInput.read, toOutput.write];
    try {
      const output = this.startOutput(toOutput);
      const input = this.startInput({ stdin: "pipe", stdout: fromInput.write });
      const relay = startFdRelay(
        {
          inputFd: fromInput.read,
          outputFd: toOutput.write,
          // The relay worker writes the envelope first: a large one must not block this thread.
          outputPreamble: `${config.output.envelope}\n`,
          limits: config.limits,
          counters: config.counters,
        },
        events,
      );
      return { input, output, relay };
    } catch (error) {
      ourEnds.forEach(closeQuietly);
      // Whatever started must not outlive a failed start.
      this.kill();
      throw error;
    } finally {
      // The children hold their ends now (or failed to start): ours must go so EOF can happen.
      closeQuietly(fromInput.write);
      closeQuietly(toOutput.read);
    }
  }

  private startOutput(pipe: OsPipe): ProviderProcess {
    const output = new ProviderProcess(this.config.output, { stdin: pipe.read, stdout: "pipe" });
    this.output = output;
    return output;
  }

  private startInput(stdio: { stdin: "pipe"; stdout: "pipe" | number }): ProviderProcess {
    let input: ProviderProcess;
    try {
      input = new ProviderProcess(this.config.input, stdio);
    } catch (error) {
      this.output?.signal("SIGKILL");
      throw error;
    }
    this.input = input;
    // Its stdin stays open until its first line says which protocol it speaks (v2: for commits).
    return input;
  }

  private inputFirstLine(handshake: Handshake | undefined): void {
    this.negotiation.inputFirstLine(handshake);
    if (handshake?.status !== "error") return;
    this.fail({
      code: "HANDSHAKE_FAILED",
      role: "input",
      message: `input provider ${this.config.input.label} reported an error: ${handshake.message || "(no message)"}`,
    });
  }

  private async judgeRelay(result: RelayResult, outputProcess: ProviderProcess): Promise<void> {
    const { input, output } = this.config;
    switch (result.end.kind) {
      case "ended":
      case "handshake-error":
        return;
      case "line-too-long":
        this.fail({
          code: "LINE_TOO_LONG",
          role: "input",
          message: `input provider ${input.label}: ${result.end.message}`,
        });
        return;
      case "bad-checkpoint":
        this.fail({
          code: "PROVIDER_FAILED",
          role: "input",
          message: `input provider ${input.label} wrote a bad checkpoint line: ${result.end.message}`,
        });
        return;
      case "not-protocol":
        this.fail({
          code: "PROVIDER_FAILED",
          role: "input",
          message: `input provider ${input.label} wrote ${JSON.stringify(result.end.preview.slice(0, 60))} before any data: stdout must hold only the handshake and JSON lines (logs go to stderr)`,
        });
        return;
      case "output-closed": {
        this.fail({
          code: "PROVIDER_FAILED",
          role: "output",
          message: `output provider ${output.label} stopped reading its input (${result.end.message})`,
        });
        // Its exit status, if it just ended, says more than a broken pipe.
        const exit = await exitWithin(outputProcess, OUTPUT_EXIT_WAIT_MS);
        if (exit && this.failure?.role === "output" && this.failure.code === "PROVIDER_FAILED") {
          this.failure = {
            ...this.failure,
            message: `output provider ${output.label} ${describeExit(exit)} while the input was still sending`,
          };
        }
        return;
      }
      default: {
        const unknown: never = result.end;
        throw new Error(`unknown relay end ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Copies the output provider's stdout to ours, minus an optional handshake line. */
  private async copyOutputStdout(output: ProviderProcess): Promise<void> {
    const source = output.stdout;
    if (!source) {
      this.negotiation.outputFirstLine(undefined);
      return;
    }
    const first = await readFirstLine(source);
    this.negotiation.outputFirstLine(first.handshake);
    this.outputProtocolKnown = this.negotiation.decidedOutput === 2 ? 2 : 1;
    if (first.handshake?.status === "error") {
      this.fail({
        code: "HANDSHAKE_FAILED",
        role: "output",
        message: `output provider ${this.config.output.label} reported an error: ${first.handshake.message || "(no message)"}`,
      });
    }
    try {
      await copyToStdout(
        first.reader,
        this.outputProtocolKnown === 2 ? (line) => this.checkpoints.echoed(line) : undefined,
      );
    } catch (error) {
      // dstream's own stdout closed (e.g. `| head`): the output's text has nowhere to go.
      this.fail({
        code: "PROVIDER_FAILED",
        role: "output",
        message: `cannot copy the stdout of output provider ${this.config.output.label} to dstream's stdout (${error instanceof Error ? error.message : String(error)})`,
      });
      await discard(first.reader);
    }
  }

  private judgeInputExit(input: ProviderExit): void {
    const stoppedBySignal = input.signal === "SIGTERM" || input.exitCode === 143;
    const inputOk =
      input.exitCode === 0 || ((this.stopRequested || this.failure) && stoppedBySignal);
    if (!inputOk) {
      this.fail({
        code: "PROVIDER_FAILED",
        role: "input",
        message: `input provider ${this.config.input.label} ${describeExit(input)}`,
      });
    }
  }

  private judgeExits(input: ProviderExit, output: ProviderExit): void {
    this.judgeInputExit(input);
    if (output.exitCode !== 0) {
      this.fail({
        code: "PROVIDER_FAILED",
        role: "output",
        message: `output provider ${this.config.output.label} ${describeExit(output)}`,
      });
    }
    clearTimeout(this.killTimer);
  }
}

/**
 * Copies what `reader` yields to dstream's stdout, waiting whenever stdout is full; a v2 output's
 * checkpoint echoes go to `onEcho` instead.
 */
async function copyToStdout(
  reader: ChunkReader,
  onEcho: ((line: string) => void) | undefined,
): Promise<void> {
  const stdout = Bun.stdout.writer();
  const waiting: Promise<number>[] = [];
  const pass = (bytes: Uint8Array) => {
    const written = stdout.write(bytes);
    if (typeof written !== "number") waiting.push(written);
  };
  const echoes = onEcho ? new EchoSplitter(pass, onEcho) : undefined;
  for (;;) {
    const { done, value } = await reader.readMany();
    if (done) break;
    for (const chunk of value) {
      if (echoes) echoes.push(chunk);
      else pass(chunk);
      if (waiting.length > 0) await Promise.all(waiting.splice(0));
    }
    await stdout.flush();
  }
  echoes?.end();
  await Promise.all(waiting);
  await stdout.flush();
}
