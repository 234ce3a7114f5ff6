// Commit lines on a v2 input's stdin, written one at a time; while one is being written only the
// newest waits, since commits are cumulative and the input must not assume it sees every one.
import { commitLine } from "../protocol/index.ts";
import type { ProviderProcess } from "./provider-process.ts";

export class CommitWriter {
  /** A commit line waiting for the input's stdin to take the one before. */
  private waiting: string | undefined;
  private writing = false;

  /**
   * @param input the input provider, once started
   * @param inputListens whether commits can still reach it (v2, its stdin open)
   */
  constructor(
    private readonly input: () => ProviderProcess | undefined,
    private readonly inputListens: () => boolean,
  ) {}

  /** Sends `value` (a committed checkpoint, as JSON text) to the input. */
  send(value: string): void {
    if (!this.inputListens() || !this.input()?.running) return;
    this.waiting = commitLine(JSON.parse(value));
    if (this.writing) return;
    this.writing = true;
    void this.writeWaiting();
  }

  private async writeWaiting(): Promise<void> {
    try {
      while (this.waiting !== undefined) {
        const line = this.waiting;
        this.waiting = undefined;
        const input = this.input();
        const stdin = input?.stdin;
        if (!stdin || !input?.running) return;
        const written = stdin.write(line);
        if (typeof written !== "number") await written;
        await stdin.flush();
      }
    } catch {
      // The input closed its stdin or exited: it must not assume it sees every commit.
    } finally {
      this.writing = false;
      this.waiting = undefined;
    }
  }
}
