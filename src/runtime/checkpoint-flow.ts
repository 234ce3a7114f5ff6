// A run's checkpoints on the main thread: those the relay passed wait for the output's echo (v2) or
// are acknowledged once written (v1 output); the newest acknowledged one is persisted, and only then
// sent to the input as a commit. Positions are data: persist before anyone acknowledges upstream.
import { parseCheckpointLine } from "../protocol/index.ts";
import type { RelayedCheckpoint } from "../relay/index.ts";

/** A checkpoint made durable in the task's state. */
export interface CommittedCheckpoint {
  /** The input's position, as JSON text. */
  value: string;
  /** Events covered by it (relayed before it in this run). */
  events: number;
  /** When it was committed (epoch ms). */
  at: number;
}

export interface CheckpointFlowOptions {
  /** Makes a checkpoint durable (atomic replace, fsync); rejects when it cannot. */
  persist(checkpoint: CommittedCheckpoint): Promise<void>;
  /** Tells the input its checkpoint is durable (the commit line on its stdin). */
  sendCommit(value: string): void;
  /** After each commit, for the display. */
  onCommitted?(checkpoint: CommittedCheckpoint): void;
  /** A persist failed, or the output echoed what it was never sent: the run must fail. */
  onFailure(message: string): void;
}

/** Echoes that name no checkpoint sent yet are kept this long (a worker message may trail an echo). */
const EARLY_ECHOES_MAX = 1024;
/**
 * While checkpoints keep coming, they are persisted at most this often (each is two fsyncs): at
 * once after a quiet spell, and the newest one at the end of the run.
 */
export const PERSIST_INTERVAL_MS = 100;

export class CheckpointFlow {
  /** Forwarded to a v2 output, not echoed yet, in order. */
  private readonly sent: RelayedCheckpoint[] = [];
  /** Echoes that arrived before the relay's word that their checkpoint was sent. */
  private earlyEchoes: string[] = [];
  private acknowledged: RelayedCheckpoint | undefined;
  /**
   * The newest checkpoint met before the output's protocol was known (every line before it was
   * written). v1: acknowledged once that is known. v2: covered by the first later echo, or by the
   * output ending cleanly.
   */
  private undecided: RelayedCheckpoint | undefined;
  private outputProtocol: 1 | 2 | undefined;
  private persisting: Promise<void> | undefined;
  private failed = false;
  /** The last checkpoint made durable in this run. */
  committed: CommittedCheckpoint | undefined;
  /** Milliseconds from the relay meeting each committed checkpoint to its commit. */
  readonly commitDelaysMs: number[] = [];

  constructor(private readonly options: CheckpointFlowOptions) {}

  /** The relay passed a checkpoint line. */
  relayed(checkpoint: RelayedCheckpoint): void {
    if (checkpoint.undecided && this.outputProtocol === undefined) {
      this.undecided = checkpoint;
      return;
    }
    if (checkpoint.undecided && this.outputProtocol === 2) {
      // A v2 output never saw it: it waits, with any other, for a later echo or a clean end.
      this.undecided = checkpoint;
      return;
    }
    if (!checkpoint.forwarded) {
      this.acknowledge(checkpoint);
      return;
    }
    this.sent.push(checkpoint);
    // Echoes come in order: only the oldest early one can name this checkpoint (the relay tells its
    // checkpoints in batches, so an output's echoes often arrive first).
    if (this.earlyEchoes[0] === checkpoint.value) {
      this.earlyEchoes.shift();
      this.echoedValue(checkpoint.value);
    }
  }

  /** The session decided which protocol the output speaks. */
  outputDecided(protocol: 1 | 2): void {
    if (this.outputProtocol !== undefined) return;
    this.outputProtocol = protocol;
    if (protocol === 2 || !this.undecided) return;
    const checkpoint = this.undecided;
    this.undecided = undefined;
    this.acknowledge(checkpoint);
  }

  /**
   * The output exited 0 after its EOF: everything written to it was delivered, as v1 promises. A
   * checkpoint it never saw (met before its protocol was known) is acknowledged now, unless a
   * later one already was.
   */
  outputEndedCleanly(): void {
    const checkpoint = this.undecided;
    this.undecided = undefined;
    if (checkpoint) this.acknowledge(checkpoint);
  }

  /** A v2 output echoed a checkpoint line (without its newline): it and all before it are durable. */
  echoed(line: string): void {
    let value: string;
    try {
      value = JSON.stringify(parseCheckpointLine(line));
    } catch (error) {
      this.fail(
        `echoed a line that is not a checkpoint: ${error instanceof Error ? error.message : error}`,
      );
      return;
    }
    this.echoedValue(value);
  }

  private echoedValue(value: string): void {
    const index = this.sent.findIndex((checkpoint) => checkpoint.value === value);
    if (index === -1) {
      this.earlyEchoes.push(value);
      if (this.earlyEchoes.length > EARLY_ECHOES_MAX) {
        this.fail(`echoed checkpoint ${value.slice(0, 80)} that it was never sent`);
      }
      return;
    }
    const [checkpoint] = this.sent.splice(0, index + 1).slice(-1);
    // Every checkpoint met before the output's protocol was known came before this one.
    this.undecided = undefined;
    if (checkpoint) this.acknowledge(checkpoint);
  }

  /** Echoes still unmatched when the run ends: the output invented them. */
  unmatchedEchoes(): string[] {
    return this.earlyEchoes;
  }

  private acknowledge(checkpoint: RelayedCheckpoint): void {
    this.acknowledged = checkpoint;
    // Cleared in a callback, never inside persistNewest: a call that ends without awaiting would
    // clear it before it is set, and settled() would then wait on it forever.
    this.persisting ??= this.persistNewest().finally(() => {
      this.persisting = undefined;
    });
  }

  private lastPersistAt = 0;
  private wakeEarly: (() => void) | undefined;

  /** Waits out the persist interval; `settled()` cuts it short at the end of the run. */
  private async pace(): Promise<void> {
    const due = this.lastPersistAt + PERSIST_INTERVAL_MS - Date.now();
    if (due <= 0 || this.ending) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, due);
      this.wakeEarly = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeEarly = undefined;
  }

  private ending = false;

  /** Persists the newest acknowledged checkpoint, again while newer ones arrived meanwhile. */
  private async persistNewest(): Promise<void> {
    try {
      while (this.acknowledged && !this.failed) {
        await this.pace();
        const checkpoint = this.acknowledged;
        if (!checkpoint) break;
        this.acknowledged = undefined;
        const committed = { value: checkpoint.value, events: checkpoint.events, at: 0 };
        committed.at = Date.now();
        this.lastPersistAt = committed.at;
        await this.options.persist(committed);
        committed.at = Date.now();
        this.committed = committed;
        this.commitDelaysMs.push(committed.at - checkpoint.at);
        this.options.onCommitted?.(committed);
        this.options.sendCommit(committed.value);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onFailure(message);
  }

  /** The run is ending: persists the newest acknowledged checkpoint now; resolves once it is. */
  async settled(): Promise<void> {
    this.ending = true;
    this.wakeEarly?.();
    while (this.persisting) await this.persisting;
  }
}
