// One run of a task on the main thread: starts both providers, relays the input's lines into the
// output (raw pipes on the relay worker, or Bun streams here), carries checkpoints (protocol v2)
// from the relay and the output's echoes to the state and the input's commits, and stops them in
// order. How the run stands and how it ended is decided by SessionState; its timers are owned by
// SessionTimers. Every failure path ends with a bounded wait, then SIGKILL.
import { messageOf } from "../errors.ts";
import type { Handshake } from "../protocol/index.ts";
import {
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
  retireWriteEnd,
  startFdRelay,
  startStreamRelay,
  unreadBytesOf,
  unreadPipeBytes,
} from "../relay/index.ts";
import { CheckpointFlow, type CommittedCheckpoint } from "./checkpoint-flow.ts";
import { CommitWriter } from "./commit-writer.ts";
import { copyToStdout } from "./output-stdout.ts";
import { ProtocolNegotiation } from "./protocol-negotiation.ts";
import type { ProviderExit } from "./provider-exit.ts";
import { type ProviderLaunch, ProviderProcess } from "./provider-process.ts";
import {
  exitWithin,
  lastLineIsWhole,
  OUTPUT_EXIT_WAIT_MS,
  settlesWithin,
} from "./provider-waits.ts";
import { type SessionReport, SessionState } from "./session-state.ts";
import { SessionTimers } from "./session-timers.ts";
import { startWatchdog } from "./watchdog.ts";

export type { SessionFailure, SessionReport } from "./session-state.ts";

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

/** How much of what an exited output never read is looked at, to count its lines. */
const UNREAD_BYTES_READ_MAX = 16 * 1024 * 1024;

function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

interface Started {
  input: ProviderProcess;
  output: ProviderProcess;
  relay: Relay;
}

export class Session {
  private input: ProviderProcess | undefined;
  private output: ProviderProcess | undefined;
  /** Bytes relayed into the output's stdin but still unread when it was killed (Linux). */
  private outputUnreadBytes: number | undefined;
  /** The output's protocol, once its first line (or the wait for it) decided. */
  private outputProtocolKnown: 1 | 2 | undefined;
  private readonly timers = new SessionTimers();
  private readonly state: SessionState;
  private readonly negotiation: ProtocolNegotiation;
  private readonly checkpoints: CheckpointFlow;
  private readonly commits: CommitWriter;

  constructor(private readonly config: SessionConfig) {
    const labels = { input: config.input.label, output: config.output.label };
    this.state = new SessionState({
      labels,
      stopTimeoutMs: config.stopTimeoutMs,
      onFailure: (_failure, first) => {
        this.input?.signal("SIGTERM");
        // SIGKILL follows if they linger.
        if (first) this.timers.after("kill", config.stopTimeoutMs, () => this.kill());
      },
    });
    this.negotiation = new ProtocolNegotiation(
      config.counters,
      labels,
      {
        closeInputStdin: () => this.input?.closeStdin(),
        notice: (line) => config.notice?.(line),
      },
      this.timers,
    );
    this.commits = new CommitWriter(
      () => this.input,
      () => this.negotiation.inputListens,
    );
    this.checkpoints = new CheckpointFlow({
      persist: config.persistCheckpoint,
      sendCommit: (value) => this.commits.send(value),
      onCommitted: (checkpoint) => markCommitted(config.counters, checkpoint.events, checkpoint.at),
      onFailure: (message) => this.state.checkpointFailed(message),
    });
  }

  /** Graceful stop: the input is asked to end; everything it wrote is still delivered. */
  stop(): void {
    this.state.stopRequested();
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

  async run(): Promise<SessionReport> {
    try {
      return await this.runStarted(this.start());
    } finally {
      // Whichever way the run ends, none of its timers outlives it.
      this.timers.dispose();
    }
  }

  private async runStarted({ input, output, relay }: Started): Promise<SessionReport> {
    const watchdog = startWatchdog([input.pid, output.pid]);
    this.state.started();
    if (this.state.phase === "stopping") input.signal("SIGTERM");
    const outputCopy = this.copyOutputStdout(output);
    void this.negotiation.outputProtocol.then((protocol) =>
      this.checkpoints.outputDecided(protocol),
    );
    const exits = this.watchExits(input, output, relay);
    const result = await this.awaitRelay(relay, output);
    // The worker retired the output's end (its number still taken): it is ours to close now.
    if (result?.outputFdRetired && this.relayOutputFd !== undefined)
      closeQuietly(this.relayOutputFd);
    this.relayOutputFd = undefined;
    const [inputExit, outputExit] = await this.drain(input, output, exits);
    await outputCopy;
    if (outputExit.exitCode === 0) this.checkpoints.outputEndedCleanly();
    // Every echo has been read: what was acknowledged is made durable before the run reports.
    await this.checkpoints.settled();
    this.input?.closeStdin();
    this.negotiation.dispose();
    relay.dispose();
    watchdog.release();
    return this.state.end({
      input: inputExit,
      output: outputExit,
      relay: result,
      unmatchedEchoes: this.checkpoints.unmatchedEchoes(),
      outputUnreadBytes: this.outputUnreadBytes,
      outputUnreadLines: this.outputUnreadLines,
      protocols: { input: this.negotiation.inputProtocol, output: this.outputProtocolKnown },
      committed: this.checkpoints.committed,
      commitDelaysMs: this.checkpoints.commitDelaysMs,
    });
  }

  /**
   * Tells the state each provider's exit as it comes (its status: a child it left may hold its
   * stderr open a while); returns both exits with their whole stderr tails, for the report.
   */
  private watchExits(
    input: ProviderProcess,
    output: ProviderProcess,
    relay: Relay,
  ): [Promise<ProviderExit>, Promise<ProviderExit>] {
    void input.exitStatus().then((exit) => {
      // The relay keeps a last line without newline only from an input that ended cleanly.
      markInputEnd(this.config.counters, exit.exitCode === 0);
      // A failed input fails the run now: the kill timer then bounds the wait for the output.
      this.state.inputExited(exit);
    });
    // An output that ends while the input still sends: nothing more can be delivered. Its exit can
    // overtake the relay's own report of a clean end, so that report gets a moment to arrive.
    void output.exitStatus().then(async (exit) => {
      if (this.state.relayHasEnded) return;
      if (await settlesWithin(relay.result, OUTPUT_EXIT_WAIT_MS)) return;
      this.state.outputExitedWhileSending(exit);
    });
    return [input.exited(), output.exited()];
  }

  /** The relay's result, told to the state; undefined when the relay itself broke. */
  private async awaitRelay(
    relay: Relay,
    output: ProviderProcess,
  ): Promise<RelayResult | undefined> {
    let result: RelayResult | undefined;
    try {
      result = await relay.result;
      this.state.relayEnded(result.end);
    } catch (error) {
      this.state.relayBroke(messageOf(error));
      this.kill();
      return result;
    }
    if (result.end.kind === "output-closed") {
      // Its exit status, if it just ended, says more than a broken pipe.
      const exit = await exitWithin(output, OUTPUT_EXIT_WAIT_MS);
      if (exit) this.state.outputExitExplainsClose(exit);
    }
    return result;
  }

  /** The relay ended: the output gets its EOF, and both exits are awaited, each wait bounded. */
  private async drain(
    input: ProviderProcess,
    output: ProviderProcess,
    exits: [Promise<ProviderExit>, Promise<ProviderExit>],
  ): Promise<[ProviderExit, ProviderExit]> {
    const { stopTimeoutMs } = this.config;
    // An input that closed its stdout but lives on would hold the run open forever.
    this.timers.after("linger", stopTimeoutMs, () => {
      if (input.running) this.state.inputLingered();
    });
    // The stream relay leaves the output's stdin open: closing it is the output's EOF.
    try {
      await output.stdin?.end();
    } catch {
      // The output is gone already; its exit status tells the story.
    }
    // An output may take long to flush after its EOF, so it is not killed; but the wait is told.
    this.timers.after("slow-output", stopTimeoutMs, () => {
      if (!output.running || this.state.failure) return;
      this.config.notice?.(
        `output provider ${this.config.output.label} has not exited ${stopTimeoutMs / 1000} s after the end of its input; still waiting (a stop signal ends it)`,
      );
    });
    const ended = await Promise.all(exits);
    this.timers.cancel("linger");
    this.timers.cancel("slow-output");
    return ended;
  }

  /** Starts output then input, wired by raw pipes when available, else by Bun's pipes. */
  private start(): Started {
    const { config } = this;
    const events: RelayEvents = {
      onInputFirstLine: (handshake) => this.inputFirstLine(handshake),
      onCheckpoint: (checkpoint) => this.checkpoints.relayed(checkpoint),
    };
    const fromInput = createOsPipe();
    const toOutput = fromInput ? createOsPipe() : undefined;
    if (!fromInput || !toOutput) {
      if (fromInput) [fromInput.read, fromInput.write].forEach(closeQuietly);
      const output = new ProviderProcess(config.output, undefined, config.notice);
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
          () => lastLineIsWhole(input),
          () => this.negotiation.decidedOutput,
        ),
      };
    }
    const ourEnds = [fromInput.read, toOutput.write];
    try {
      const output = this.startOutput(toOutput);
      // A second read end of the output's stdin, never read while it runs (its EOF still comes
      // when the relay closes the write end): what waits in it once the output exited, it never read.
      this.outputStdinProbe = toOutput.read;
      this.relayOutputFd = toOutput.write;
      void output.process.exited.then(() => this.measureUnread());
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
      this.closeOutputStdinProbe();
      // Whatever started must not outlive a failed start.
      this.kill();
      throw error;
    } finally {
      // The children hold their ends now (or failed to start): ours must go so EOF can happen.
      closeQuietly(fromInput.write);
      if (this.outputStdinProbe === undefined) closeQuietly(toOutput.read);
    }
  }

  /** The output's stdin as dstream holds it (raw pipes): see start(). */
  private outputStdinProbe: number | undefined;
  /** The end the relay worker writes the output's stdin through (raw pipes), while it runs. */
  private relayOutputFd: number | undefined;

  private closeOutputStdinProbe(): Uint8Array {
    const probe = this.outputStdinProbe;
    if (probe === undefined) return new Uint8Array(0);
    this.outputStdinProbe = undefined;
    // The relay may still be writing: cut it off first, or what it writes into the space the read
    // below frees would count as relayed and vanish with the pipe. (Its number stays taken until
    // the relay is done; a write after this fails with EPIPE and counts as in flight.)
    if (this.relayOutputFd !== undefined) retireWriteEnd(this.relayOutputFd);
    const unread = unreadBytesOf(probe, UNREAD_BYTES_READ_MAX);
    // Closed at once: with no reader left, a relay still writing gets its broken pipe.
    closeQuietly(probe);
    return unread;
  }

  /**
   * The output exited: what it was sent and never read is measured (the report names it; after
   * exit 0 it is a lost delivery that the end judges a failure, not a success).
   */
  private measureUnread(): void {
    const unread = this.closeOutputStdinProbe();
    if (unread.length === 0) return;
    this.outputUnreadBytes ??= unread.length;
    // An output that never read its envelope left it there too: it is not an event.
    const envelope = new TextEncoder().encode(`${this.config.output.envelope}\n`);
    const unreadEnvelope = Buffer.from(unread.subarray(0, envelope.length)).equals(envelope);
    const lines = countNewlines(unread) - (unreadEnvelope ? 1 : 0);
    if (lines > 0) this.outputUnreadLines = lines;
  }

  /** Lines the output left unread in its stdin when it exited, judged at the end. */
  private outputUnreadLines: number | undefined;

  private startOutput(pipe: OsPipe): ProviderProcess {
    const output = new ProviderProcess(
      this.config.output,
      { stdin: pipe.read, stdout: "pipe" },
      this.config.notice,
    );
    this.output = output;
    return output;
  }

  private startInput(stdio: { stdin: "pipe"; stdout: "pipe" | number }): ProviderProcess {
    let input: ProviderProcess;
    try {
      input = new ProviderProcess(this.config.input, stdio, this.config.notice);
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
    if (handshake?.status === "error") this.state.handshakeError("input", handshake.message);
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
      this.state.handshakeError("output", first.handshake.message);
    }
    try {
      await copyToStdout(
        first.reader,
        this.outputProtocolKnown === 2 ? (line) => this.checkpoints.echoed(line) : undefined,
      );
    } catch (error) {
      // dstream's own stdout closed (e.g. `| head`): the output's text has nowhere to go.
      this.state.stdoutCopyFailed(messageOf(error));
      await discard(first.reader);
    }
  }
}
