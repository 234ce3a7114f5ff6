// Runs in the relay worker: starts both providers, consumes handshakes, pumps the input's lines to
// the output, stops in order, and reports how each provider ended. The worker owns the pipes
// because Bun cannot hand a stream from one thread to another.
import { messageOf } from "../errors.ts";
import { LineTooLongError } from "../relay/line-framer.ts";
import { type ChunkReader, LinePump } from "../relay/pump.ts";
import { type FirstLine, readFirstLine } from "./first-line.ts";
import { describeExit, type ProviderExit, ProviderProcess } from "./provider-process.ts";
import { startWatchdog } from "./watchdog.ts";
import type { SessionConfig, SessionFailure, SessionReport } from "./worker-messages.ts";

/** After a write to the output fails, how long to wait for its exit status to explain why. */
const OUTPUT_EXIT_WAIT_MS = 1000;

/** Reads a stream to its end and drops the bytes: a writer blocked on a full pipe can then finish. */
async function discard(reader: ChunkReader): Promise<void> {
  try {
    for (;;) {
      const { done } = await reader.readMany();
      if (done) return;
    }
  } catch {
    // The writer is gone; nothing more to drain.
  }
}

async function exitWithin(
  provider: ProviderProcess,
  ms: number,
): Promise<ProviderExit | undefined> {
  let timer: Timer | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    return await Promise.race([provider.exited(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Anything but a handshake or a JSON object on the input's first line is not protocol v1. */
function isProtocolFirstLine(first: FirstLine): boolean {
  const start = first.preview.trimStart();
  return first.handshake !== undefined || start === "" || start.startsWith("{");
}

export class Session {
  private failure: SessionFailure | undefined;
  private stopRequested = false;
  private input: ProviderProcess | undefined;
  private output: ProviderProcess | undefined;
  private inputEnded = false;
  /** The input's stdout reached its end (or relaying gave up): the output may now finish. */
  private relayEnded = false;
  private abandonTimer: Timer | undefined;

  constructor(private readonly config: SessionConfig) {}

  /** Graceful stop: the input is asked to end; everything it wrote is still delivered. */
  stop(): void {
    this.stopRequested = true;
    this.input?.signal("SIGTERM");
  }

  kill(): void {
    this.input?.signal("SIGKILL");
    this.output?.signal("SIGKILL");
  }

  private fail(failure: SessionFailure): void {
    this.failure ??= failure;
  }

  /** The task has failed: ask the input to stop; past the shutdown timeout, kill both providers. */
  private abandon(): void {
    this.input?.signal("SIGTERM");
    this.abandonTimer ??= setTimeout(() => this.kill(), this.config.shutdownTimeoutMs);
  }

  async run(onStarted: (inputPid: number, outputPid: number) => void): Promise<SessionReport> {
    const { config } = this;
    const output = new ProviderProcess(config.output);
    this.output = output;
    let input: ProviderProcess;
    try {
      input = new ProviderProcess(config.input);
    } catch (error) {
      output.signal("SIGKILL");
      throw error;
    }
    this.input = input;
    // An input that exits without reading its envelope is legal: ignore the broken pipe.
    Promise.resolve(input.process.stdin.end()).catch(() => {});
    const watchdog = startWatchdog([input.pid, output.pid]);
    onStarted(input.pid, output.pid);
    if (this.stopRequested) input.signal("SIGTERM");

    const outputCopy = this.copyOutputStdout(output);
    const outputExit = output.exited();
    const inputExit = input.exited().then((exit) => {
      this.inputEnded = true;
      return exit;
    });
    // An output that ends while the input still runs: stop the input, nothing more can be delivered.
    const outputGone = outputExit.then((exit) => {
      if (!this.inputEnded && !this.relayEnded) {
        this.fail({
          code: "PROVIDER_FAILED",
          role: "output",
          message: `output provider ${config.output.label} ${describeExit(exit)} while the input was still sending`,
        });
        this.abandon();
      }
      return exit;
    });

    const pump = new LinePump(config.counters, config.limits);
    const pumping = this.pumpInput(input, output, pump).finally(() => {
      this.relayEnded = true;
    });
    await Promise.race([pumping, outputGone]);
    await this.closeOutputStdin(output);
    const [inputResult, outputResult] = await Promise.all([inputExit, outputExit]);
    await pumping;
    await outputCopy;
    clearTimeout(this.abandonTimer);
    watchdog.release();
    this.judgeExits(inputResult, outputResult);
    const progress = pump.progress();
    return {
      input: inputResult,
      output: outputResult,
      ...(this.failure ? { failure: this.failure } : {}),
      relayedLines: progress.lines - progress.inFlightLines,
      inFlightLines: progress.inFlightLines,
      inFlightBytes: progress.inFlightBytes,
    };
  }

  private async pumpInput(input: ProviderProcess, output: ProviderProcess, pump: LinePump) {
    const label = this.config.input.label;
    const first = await readFirstLine(input.process.stdout);
    try {
      if (first.handshake?.status === "error") {
        this.fail({
          code: "HANDSHAKE_FAILED",
          role: "input",
          message: `input provider ${label} reported an error: ${first.handshake.message || "(no message)"}`,
        });
      } else if (!isProtocolFirstLine(first)) {
        this.fail({
          code: "PROVIDER_FAILED",
          role: "input",
          message: `input provider ${label} wrote ${JSON.stringify(first.preview.slice(0, 60))} before any data: stdout must hold only the handshake and JSON lines (logs go to stderr)`,
        });
      } else {
        await pump.run(first.reader, output.process.stdin);
        return;
      }
    } catch (error) {
      this.fail(await this.relayFailure(error, output));
    }
    this.abandon();
    // Keep reading: an input blocked on a full pipe could otherwise never act on its SIGTERM.
    await discard(first.reader);
  }

  private async relayFailure(error: unknown, output: ProviderProcess): Promise<SessionFailure> {
    if (error instanceof LineTooLongError) {
      return {
        code: "LINE_TOO_LONG",
        role: "input",
        message: `input provider ${this.config.input.label}: ${error.message}`,
      };
    }
    // A write failed because the output closed its stdin; its exit, if it just ended, says more.
    const exit = await exitWithin(output, OUTPUT_EXIT_WAIT_MS);
    const how = exit
      ? `${describeExit(exit)} while the input was still sending`
      : `stopped reading its input (${messageOf(error)})`;
    return {
      code: "PROVIDER_FAILED",
      role: "output",
      message: `output provider ${this.config.output.label} ${how}`,
    };
  }

  private async closeOutputStdin(output: ProviderProcess): Promise<void> {
    try {
      await output.process.stdin.end();
    } catch {
      // The output is already gone; its exit status tells the story.
    }
  }

  /** Copies the output provider's stdout to ours, minus an optional handshake line. */
  private async copyOutputStdout(output: ProviderProcess): Promise<void> {
    const label = this.config.output.label;
    const first = await readFirstLine(output.process.stdout);
    if (first.handshake?.status === "error") {
      this.fail({
        code: "HANDSHAKE_FAILED",
        role: "output",
        message: `output provider ${label} reported an error: ${first.handshake.message || "(no message)"}`,
      });
      this.abandon();
    }
    const stdout = Bun.stdout.writer();
    try {
      for (;;) {
        const { done, value } = await first.reader.readMany();
        if (done) return;
        for (const chunk of value) stdout.write(chunk);
        await stdout.flush();
      }
    } catch (error) {
      this.fail({
        code: "PROVIDER_FAILED",
        role: "output",
        message: `cannot copy the stdout of output provider ${label} to dstream's stdout (${messageOf(error)})`,
      });
      this.abandon();
      // Keep reading so the output can finish and exit.
      await discard(first.reader);
    }
  }

  private judgeExits(input: ProviderExit, output: ProviderExit): void {
    const stoppedBySignal = input.signal === "SIGTERM" || input.exitCode === 143;
    const inputOk = input.exitCode === 0 || (this.stopRequested && stoppedBySignal);
    if (!inputOk) {
      this.fail({
        code: "PROVIDER_FAILED",
        role: "input",
        message: `input provider ${this.config.input.label} ${describeExit(input)}`,
      });
    }
    if (output.exitCode !== 0) {
      this.fail({
        code: "PROVIDER_FAILED",
        role: "output",
        message: `output provider ${this.config.output.label} ${describeExit(output)}`,
      });
    }
  }
}
