// One run of a task on the main thread: starts both providers, relays the input's lines into the
// output (raw pipes on the relay worker, or Bun streams here), stops them in order, and reports
// how each ended. Every failure path ends with a bounded wait, then SIGKILL.
import type { ErrorCode } from "../errors.ts";
import type { Handshake } from "../protocol/index.ts";
import { readFirstLine } from "../relay/first-line.ts";
import {
  type ChunkReader,
  closeQuietly,
  createOsPipe,
  discard,
  markInputEnd,
  type OsPipe,
  type PumpLimits,
  type Relay,
  type RelayResult,
  startFdRelay,
  startStreamRelay,
  unreadPipeBytes,
} from "../relay/index.ts";
import { endedCleanly, exitWithin, OUTPUT_EXIT_WAIT_MS, settlesWithin } from "./bounded-waits.ts";
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
  /** Tells the user about a wait that is taking long (not a failure). */
  notice?: (line: string) => void;
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

  constructor(private readonly config: SessionConfig) {}

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
    relay.dispose();
    clearTimeout(this.killTimer);
    watchdog.release();
    this.judgeExits(inputResult, outputResult);
    return {
      input: inputResult,
      output: outputResult,
      ...(this.failure ? { failure: this.failure } : {}),
      relayedLines: result?.lines ?? 0,
      inFlightLines: result?.inFlightLines ?? 0,
      inFlightBytes: result?.inFlightBytes ?? 0,
      cutLineBytes: result?.cutLineBytes ?? 0,
      ...(this.outputUnreadBytes ? { outputUnreadBytes: this.outputUnreadBytes } : {}),
    };
  }

  /** Starts output then input, wired by raw pipes when available, else by Bun's pipes. */
  private start(): { input: ProviderProcess; output: ProviderProcess; relay: Relay } {
    const { config } = this;
    const onHandshake = (handshake: Handshake) => this.inputHandshake(handshake);
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
        relay: startStreamRelay(stdout, sink, config.limits, config.counters, onHandshake, () =>
          endedCleanly(input),
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
        onHandshake,
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
    // An input that exits without reading its envelope is legal.
    input.closeStdin();
    return input;
  }

  private inputHandshake(handshake: Handshake): void {
    if (handshake.status !== "error") return;
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
    if (!source) return;
    const first = await readFirstLine(source);
    if (first.handshake?.status === "error") {
      this.fail({
        code: "HANDSHAKE_FAILED",
        role: "output",
        message: `output provider ${this.config.output.label} reported an error: ${first.handshake.message || "(no message)"}`,
      });
    }
    try {
      await copyToStdout(first.reader);
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

/** Copies what `reader` yields to dstream's stdout, waiting whenever stdout is full. */
async function copyToStdout(reader: ChunkReader): Promise<void> {
  const stdout = Bun.stdout.writer();
  for (;;) {
    const { done, value } = await reader.readMany();
    if (done) return;
    for (const chunk of value) {
      const written = stdout.write(chunk);
      if (typeof written !== "number") await written;
    }
    await stdout.flush();
  }
}
