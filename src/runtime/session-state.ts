// How a run stands and how it ended, decided in one place, without processes or timers: its phase
// and the moves between phases, the first failure (which wins), the judgement of each provider's
// exit, of the relay's end and of the output's echoes, and the report.
import type { ErrorCode } from "../errors.ts";
import type { RelayEnd, RelayFigures, RelayResult } from "../relay/index.ts";
import type { CommittedCheckpoint } from "./checkpoint-flow.ts";
import { describeExit, type ProviderExit } from "./provider-exit.ts";

/**
 * starting: the providers are being started. relaying: the relay runs. stopping: a stop was asked
 * for, the input got SIGTERM and the relay drains what it wrote. failing: something failed, the
 * input got SIGTERM and SIGKILL follows. draining: the relay ended, the output has its EOF, both
 * exits are awaited. ended: both exited and the run is judged.
 */
export type SessionPhase = "starting" | "relaying" | "stopping" | "failing" | "draining" | "ended";

/** The moves a phase allows; anything else is a bug in the session and throws. */
const MOVES: Record<SessionPhase, readonly SessionPhase[]> = {
  starting: ["relaying", "stopping", "failing"],
  relaying: ["stopping", "failing", "draining"],
  stopping: ["failing", "draining"],
  failing: ["draining"],
  draining: ["ended"],
  ended: [],
};

export interface SessionFailure {
  code: ErrorCode;
  message: string;
  /** Whose stderr tail explains the failure. */
  role?: "input" | "output";
}

/** The relay's figures as the report carries them: its `lines` are the lines relayed. */
type ReportedFigures = Omit<RelayFigures, "lines"> & { relayedLines: RelayFigures["lines"] };

export interface SessionReport extends ReportedFigures {
  input: ProviderExit;
  output: ProviderExit;
  failure?: SessionFailure;
  /** Relayed into the output's stdin, but unread when dstream had to kill it: lost (Linux). */
  outputUnreadBytes?: number;
  /** The protocols the providers spoke (undefined: never known, e.g. a provider that said nothing). */
  protocols: { input?: 1 | 2; output?: 1 | 2 };
  /** The last checkpoint committed in this run. */
  committed?: CommittedCheckpoint;
  /** Milliseconds from the relay meeting each committed checkpoint to its commit. */
  commitDelaysMs: number[];
}

export interface SessionStateOptions {
  /** How users know each provider, for messages. */
  labels: { input: string; output: string };
  /** How long providers get to end after a failure or the relay's end. */
  stopTimeoutMs: number;
  /**
   * A failure while providers may still run: the session sends the input SIGTERM and, on the
   * first failure, sets the kill timer.
   */
  onFailure(failure: SessionFailure, first: boolean): void;
}

/** What the session knows once both providers have exited. */
export interface RunEnd {
  input: ProviderExit;
  output: ProviderExit;
  /** Undefined when the relay itself broke. */
  relay: RelayResult | undefined;
  /** Echoes that matched no checkpoint sent. */
  unmatchedEchoes: readonly string[];
  outputUnreadBytes: number | undefined;
  /** Lines the output was sent and left unread when it exited (raw pipes; undefined elsewhere). */
  outputUnreadLines?: number | undefined;
  protocols: { input: 1 | 2 | undefined; output: 1 | 2 | undefined };
  committed: CommittedCheckpoint | undefined;
  commitDelaysMs: number[];
}

export class SessionState {
  private current: SessionPhase = "starting";
  private firstFailure: SessionFailure | undefined;
  /** dstream sent the input SIGTERM (a stop or a failure): its SIGTERM exit is then clean. */
  private inputAskedToStop = false;

  constructor(private readonly options: SessionStateOptions) {}

  get phase(): SessionPhase {
    return this.current;
  }

  get failure(): SessionFailure | undefined {
    return this.firstFailure;
  }

  /** Whether the relay has ended: an output exiting from now on is not cutting data off. */
  get relayHasEnded(): boolean {
    return this.current === "draining" || this.current === "ended";
  }

  private move(to: SessionPhase): void {
    if (!MOVES[this.current].includes(to)) {
      throw new Error(`session cannot move from ${this.current} to ${to}`);
    }
    this.current = to;
  }

  /** Both providers and the relay started. A stop asked for meanwhile stays in force. */
  started(): void {
    if (this.current === "stopping") return;
    this.move("relaying");
  }

  /** A stop signal: the input is asked to end; everything it wrote is still delivered. */
  stopRequested(): void {
    this.inputAskedToStop = true;
    // Once failing or past the relay, the run ends anyway; a signal racing the end changes nothing.
    if (this.current === "starting" || this.current === "relaying") this.move("stopping");
  }

  /** A failure while providers may still run: recorded (the first wins), and the input stopped. */
  private fail(failure: SessionFailure): void {
    const first = this.record(failure);
    this.inputAskedToStop = true;
    if (this.current !== "failing" && this.current !== "draining") this.move("failing");
    this.options.onFailure(failure, first);
  }

  /** Keeps the first failure; returns whether this one was it. */
  private record(failure: SessionFailure): boolean {
    if (this.current === "ended") {
      throw new Error(`session failure after the run ended: ${failure.message}`);
    }
    if (this.firstFailure) return false;
    this.firstFailure = failure;
    return true;
  }

  /** The relay's end: judged, then the run drains. */
  relayEnded(end: RelayEnd): void {
    this.judgeRelayEnd(end);
    this.move("draining");
  }

  /** The relay itself broke (its worker died): nothing more is relayed. */
  relayBroke(message: string): void {
    this.fail({ code: "INTERNAL", message });
    this.move("draining");
  }

  private judgeRelayEnd(end: RelayEnd): void {
    const { input, output } = this.options.labels;
    switch (end.kind) {
      case "ended":
      case "handshake-error":
        // The input's own handshake error was judged when its first line came.
        return;
      case "line-too-long":
        this.failInput("LINE_TOO_LONG", `input provider ${input}: ${end.message}`);
        return;
      case "bad-checkpoint":
        this.failInput(
          "PROVIDER_FAILED",
          `input provider ${input} wrote a bad checkpoint line: ${end.message}`,
        );
        return;
      case "not-protocol":
        this.failInput(
          "PROVIDER_FAILED",
          `input provider ${input} wrote ${JSON.stringify(end.preview.slice(0, 60))} before any data: stdout must hold only the handshake and JSON lines (logs go to stderr)`,
        );
        return;
      case "output-closed":
        this.failBare("output", {
          code: "PROVIDER_FAILED",
          role: "output",
          message: `output provider ${output} stopped reading its input (${end.message})`,
        });
        return;
      default: {
        const unknown: never = end;
        throw new Error(`unknown relay end ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** After a broken pipe to the output: its exit status, if it just ended, says more. */
  outputExitExplainsClose(exit: ProviderExit): void {
    const failure = this.firstFailure;
    if (this.bareFailureOf !== "output" || !failure) return;
    // Still a bare end: words the output wrote before it (an error handshake) may replace it.
    this.firstFailure = { ...failure, message: this.outputEndedWhileSendingMessage(exit) };
  }

  /** The output exited while the relay still ran: nothing more can be delivered. */
  outputExitedWhileSending(exit: ProviderExit): void {
    this.failBare("output", {
      code: "PROVIDER_FAILED",
      role: "output",
      message: this.outputEndedWhileSendingMessage(exit),
    });
  }

  private outputEndedWhileSendingMessage(exit: ProviderExit): string {
    return `output provider ${this.options.labels.output} ${describeExit(exit)} while the input was still sending`;
  }

  /** A provider's first line was `{"status":"error"}`. */
  handshakeError(role: "input" | "output", message: string): void {
    const failure: SessionFailure = {
      code: "HANDSHAKE_FAILED",
      role,
      message: `${role} provider ${this.options.labels[role]} reported an error: ${message || "(no message)"}`,
    };
    // A provider that says why and exits at once: its exit (or the broken pipe to it) can be judged
    // before its words arrive. Its own message is what the user must see.
    if (this.firstFailure && this.bareFailureOf === role) {
      this.firstFailure = failure;
      this.bareFailureOf = undefined;
      return;
    }
    this.fail(failure);
  }

  /**
   * The role whose bare end (its exit status, or the broken pipe to it) is the first failure,
   * until that provider's own words replace it.
   */
  private bareFailureOf: "input" | "output" | undefined;

  /** A failure that says only that `role` ended: its own words, arriving later, replace it. */
  private failBare(role: "input" | "output", failure: SessionFailure): void {
    if (!this.firstFailure) this.bareFailureOf = role;
    this.fail(failure);
  }

  /** The input closed its stdout but still ran a stop timeout after the relay ended. */
  inputLingered(): void {
    this.failInput(
      "PROVIDER_FAILED",
      `input provider ${this.options.labels.input} closed its stdout but did not exit within ${this.options.stopTimeoutMs / 1000} s`,
    );
  }

  /** dstream's own stdout failed (e.g. `| head`): the output's text has nowhere to go. */
  stdoutCopyFailed(message: string): void {
    this.failOutput(
      `cannot copy the stdout of output provider ${this.options.labels.output} to dstream's stdout (${message})`,
    );
  }

  /** The checkpoint flow failed: the output echoed something wrong, or the state is not writable. */
  checkpointFailed(message: string): void {
    if (message.startsWith("echoed")) {
      this.failOutput(`output provider ${this.options.labels.output} ${message}`);
    } else {
      this.fail({ code: "STATE", message });
    }
  }

  /** The input exited; a failed input fails the run at once (the output may still run). */
  inputExited(exit: ProviderExit): void {
    const failure = this.inputExitFailure(exit);
    if (failure) this.failBare("input", failure);
  }

  /** Clean: exit 0, or the SIGTERM dstream sent it (a stop or a failure), by signal or as 143. */
  private inputExitFailure(exit: ProviderExit): SessionFailure | undefined {
    const stoppedBySignal = exit.signal === "SIGTERM" || exit.exitCode === 143;
    if (exit.exitCode === 0 || (this.inputAskedToStop && stoppedBySignal)) return undefined;
    const message = `input provider ${this.options.labels.input} ${describeExit(exit)}`;
    return { code: "PROVIDER_FAILED", role: "input", message };
  }

  /** Both providers exited and every echo was read: the last judgements, then the report. */
  end(run: RunEnd): SessionReport {
    const { output } = this.options.labels;
    // Both providers are gone: failures found now are recorded, with nobody left to stop.
    const inputFailure = this.inputExitFailure(run.input);
    if (inputFailure) this.record(inputFailure);
    if (run.output.exitCode !== 0) {
      const message = `output provider ${output} ${describeExit(run.output)}`;
      this.record({ code: "PROVIDER_FAILED", role: "output", message });
    }
    // Exit 0 with lines it was sent still unread in its stdin: those were not delivered.
    const unread = run.outputUnreadLines ?? 0;
    if (run.output.exitCode === 0 && unread > 0) {
      const lines = unread === 1 ? "1 line" : `${unread} lines`;
      const message = `output provider ${output} exited 0 without reading ${lines} it was sent: they were not delivered`;
      this.record({ code: "PROVIDER_FAILED", role: "output", message });
    }
    // Echoes of checkpoints never sent: a broken v2 output, which a clean run must not hide.
    const [unmatched] = run.unmatchedEchoes;
    if (unmatched !== undefined) {
      const message = `output provider ${output} echoed checkpoint ${unmatched.slice(0, 80)} that it was never sent`;
      this.record({ code: "PROVIDER_FAILED", role: "output", message });
    }
    this.move("ended");
    return this.report(run);
  }

  private report(run: RunEnd): SessionReport {
    const { relay, protocols } = run;
    return {
      input: run.input,
      output: run.output,
      ...(this.firstFailure ? { failure: this.firstFailure } : {}),
      relayedLines: relay?.lines ?? 0,
      inFlightLines: relay?.inFlightLines ?? 0,
      inFlightBytes: relay?.inFlightBytes ?? 0,
      cutLineBytes: relay?.cutLineBytes ?? 0,
      ...(run.outputUnreadBytes ? { outputUnreadBytes: run.outputUnreadBytes } : {}),
      protocols: {
        ...(protocols.input ? { input: protocols.input } : {}),
        ...(protocols.output ? { output: protocols.output } : {}),
      },
      ...(run.committed ? { committed: run.committed } : {}),
      commitDelaysMs: run.commitDelaysMs,
    };
  }

  private failInput(code: ErrorCode, message: string): void {
    this.fail({ code, role: "input", message });
  }

  private failOutput(message: string): void {
    this.fail({ code: "PROVIDER_FAILED", role: "output", message });
  }
}
