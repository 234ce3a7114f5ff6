// A v2 input's stdin after the envelope: dstream's commit lines, handed to onCommit in order, newest
// first when several wait (commits are cumulative).
import { LineSplitter } from "./line-splitter.ts";

const decoder = new TextDecoder();

export interface CommitReader {
  /** The first error onCommit threw, once it has. */
  readonly failure: unknown;
}

/** Reads commit lines from `lines` until it ends; `onFailure` is told of an onCommit that threw. */
export function readCommits(
  lines: AsyncIterable<Uint8Array>,
  onCommit: ((checkpoint: unknown) => void | Promise<void>) | undefined,
  onFailure: (error: unknown) => void,
): CommitReader {
  const state: { failure: unknown } = { failure: undefined };
  let waiting: { checkpoint: unknown } | undefined;
  let running = false;
  const drain = async () => {
    running = true;
    try {
      while (waiting && state.failure === undefined) {
        const { checkpoint } = waiting;
        waiting = undefined;
        await onCommit?.(checkpoint);
      }
    } catch (error) {
      state.failure = error;
      onFailure(error);
    } finally {
      running = false;
    }
  };
  const onLine = (line: Uint8Array) => {
    let message: unknown;
    try {
      message = JSON.parse(decoder.decode(line));
    } catch {
      return; // Not for us: dstream writes only commit lines here.
    }
    if (typeof message !== "object" || message === null) return;
    if ((message as { command?: unknown }).command !== "commit") return;
    waiting = { checkpoint: (message as { checkpoint?: unknown }).checkpoint ?? null };
    if (!running) void drain();
  };
  void (async () => {
    const splitter = new LineSplitter();
    try {
      for await (const chunk of lines) splitter.push(chunk, onLine);
    } catch {
      // stdin closed under us: no more commits, which an input must expect.
    }
  })();
  return state;
}
