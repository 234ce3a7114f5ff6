// Runs in the relay worker: starts both providers, consumes handshakes, pumps the input's lines to
// the output, stops in order, and reports how each provider ended. The worker owns the pipes
// because Bun cannot hand a stream from one thread to another.
import { DstreamError, messageOf } from "../errors.ts";
import { LineTooLongError } from "../relay/line-framer.ts";
import { type ChunkReader, LinePump } from "../relay/pump.ts";
import { readFirstLine } from "./first-line.ts";
import { describeExit, type ProviderExit, ProviderProcess } from "./provider-process.ts";
import { startWatchdog } from "./watchdog.ts";
import type { SessionConfig, SessionFailure, SessionReport } from "./worker-messages.ts";

export class Session {
  private failure: SessionFailure | undefined;
  private stopRequested = false;
  private input: ProviderProcess | undefined;
  private output: ProviderProcess | undefined;
  private inputEnded = false;
  /** The input's stdout reached its end (or relaying gave up): the output may now finish. */
  private relayEnded = false;

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
    input.process.stdin.end();
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
        input.signal("SIGTERM");
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
    try {
      const first = await readFirstLine(input.process.stdout);
      if (first.handshake?.status === "error") {
        this.fail({
          code: "HANDSHAKE_FAILED",
          role: "input",
          message: `input provider ${label} reported an error: ${first.handshake.message || "(no message)"}`,
        });
        input.signal("SIGTERM");
        return;
      }
      await pump.run(first.reader as ChunkReader, output.process.stdin);
    } catch (error) {
      if (error instanceof LineTooLongError) {
        this.fail({
          code: "LINE_TOO_LONG",
          role: "input",
          message: `input provider ${label}: ${error.message}`,
        });
      } else {
        this.fail({
          code: "PROVIDER_FAILED",
          role: "output",
          message: `output provider ${this.config.output.label} stopped reading its input (${messageOf(error)})`,
        });
      }
      input.signal("SIGTERM");
    }
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
    const stdout = Bun.stdout.writer();
    try {
      const first = await readFirstLine(output.process.stdout);
      if (first.handshake?.status === "error") {
        this.fail({
          code: "HANDSHAKE_FAILED",
          role: "output",
          message: `output provider ${label} reported an error: ${first.handshake.message || "(no message)"}`,
        });
        this.input?.signal("SIGTERM");
      }
      for (;;) {
        const { done, value } = await first.reader.readMany();
        if (done) break;
        for (const chunk of value) stdout.write(chunk);
        await stdout.flush();
      }
    } catch (error) {
      throw new DstreamError(
        "PROVIDER_FAILED",
        `cannot copy output of ${label}: ${messageOf(error)}`,
      );
    } finally {
      await stdout.flush();
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
