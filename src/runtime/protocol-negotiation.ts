// Which protocol each provider of a run speaks, decided once from its first stdout line: the input's
// (v2 keeps its stdin open for commits), and the output's (v2 gets checkpoint lines and echoes them).
import type { Handshake } from "../protocol/index.ts";
import { markOutputProtocol, outputProtocolOf, speaksV2 } from "../relay/index.ts";
import type { SessionTimers } from "./session-timers.ts";

/**
 * An input whose first line has not come this long after its start has its stdin closed, as v1
 * promises (a v1 input may read its stdin to the end before it writes anything).
 */
export const INPUT_FIRST_LINE_WAIT_MS = 5000;
/**
 * After a v2 input's handshake, an output that has said nothing this long is taken as v1. Data
 * never waits for this: checkpoints met meanwhile are cut out and committed once it is decided.
 */
export const OUTPUT_HANDSHAKE_WAIT_MS = 5000;

export interface NegotiationEvents {
  /** v1 promises an input a closed stdin after its envelope. */
  closeInputStdin(): void;
  notice(line: string): void;
}

export class ProtocolNegotiation {
  inputProtocol: 1 | 2 | undefined;
  private inputStdinClosed = false;
  private resolveOutput: (protocol: 1 | 2) => void = () => {};
  /** Resolves once the output's protocol is decided. */
  readonly outputProtocol: Promise<1 | 2>;

  constructor(
    private readonly counters: SharedArrayBuffer,
    private readonly labels: { input: string; output: string },
    private readonly events: NegotiationEvents,
    /** The session's timers: its waits are the session's, cleared with the rest at its end. */
    private readonly timers: SessionTimers,
  ) {
    this.outputProtocol = new Promise((resolve) => {
      this.resolveOutput = resolve;
    });
    // Never what keeps dstream alive (unref): a run that failed to start ends at once.
    this.timers.after(
      "input-first-line",
      INPUT_FIRST_LINE_WAIT_MS,
      () => {
        if (this.inputProtocol === undefined) this.closeInputStdin();
      },
      { unref: true },
    );
  }

  private closeInputStdin(): void {
    if (this.inputStdinClosed) return;
    this.inputStdinClosed = true;
    this.events.closeInputStdin();
  }

  /** Whether commits can still reach the input. */
  get inputListens(): boolean {
    return this.inputProtocol === 2 && !this.inputStdinClosed;
  }

  inputFirstLine(handshake: Handshake | undefined): void {
    this.inputProtocol = speaksV2(handshake) ? 2 : 1;
    if (this.inputProtocol === 1) {
      this.closeInputStdin();
      return;
    }
    if (this.inputStdinClosed) {
      this.events.notice(
        `input provider ${this.labels.input} announced protocol 2 more than ${INPUT_FIRST_LINE_WAIT_MS / 1000} s after it started; its stdin was closed by then, so commits will not reach it (write the handshake first)`,
      );
    }
    if (outputProtocolOf(this.counters) === 0) {
      this.timers.after("output-handshake", OUTPUT_HANDSHAKE_WAIT_MS, () => this.decideOutput(1), {
        unref: true,
      });
    } else {
      this.warnIfWeaker();
    }
  }

  /** The output's first stdout line (undefined: it had none, or it ended first). */
  outputFirstLine(handshake: Handshake | undefined): void {
    const v2 = speaksV2(handshake);
    if (v2 && outputProtocolOf(this.counters) === 1) {
      this.events.notice(
        `output provider ${this.labels.output} announced protocol 2 after dstream had taken it as v1 (more than ${OUTPUT_HANDSHAKE_WAIT_MS / 1000} s after the input's handshake); it is treated as v1 in this run (write the handshake before connecting anywhere)`,
      );
    }
    this.decideOutput(v2 ? 2 : 1);
  }

  private decideOutput(protocol: 1 | 2): void {
    if (outputProtocolOf(this.counters) !== 0) return;
    markOutputProtocol(this.counters, protocol);
    this.resolveOutput(protocol);
    this.warnIfWeaker();
  }

  /** The output's protocol as decided: 0 while undecided. */
  get decidedOutput(): number {
    return outputProtocolOf(this.counters);
  }

  private warnIfWeaker(): void {
    if (this.inputProtocol !== 2 || outputProtocolOf(this.counters) !== 1) return;
    this.events.notice(
      `output provider ${this.labels.output} speaks protocol v1: checkpoints are committed once written into its stdin, so what it had buffered when it crashes is lost (a v2 output acknowledges only what is durable)`,
    );
  }

  dispose(): void {
    this.timers.cancel("input-first-line");
    this.timers.cancel("output-handshake");
    // A relay still waiting must not wait for a decision that will never come.
    this.decideOutput(1);
  }
}
