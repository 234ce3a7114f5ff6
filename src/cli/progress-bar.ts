// The download progress bar: registry reports a download's events, this draws them on stderr as
// one line, redrawn at most 10 times a second, only on a TTY.
import type { DownloadEvent } from "../registry/index.ts";

const WIDTH = 24;
const REDRAW_MS = 100;

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

export interface Progress {
  received: number;
  total?: number;
}

export function renderProgress(label: string, event: Progress): string {
  if (!event.total) return `${label} ${megabytes(event.received)}`;
  const fraction = Math.min(event.received / event.total, 1);
  const filled = Math.round(fraction * WIDTH);
  const bar = `${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} [${bar}] ${percent} ${megabytes(event.received)} / ${megabytes(event.total)}`;
}

export interface ProgressBar {
  update(event: Progress): void;
  /** Ends a line left open by a download that stopped short, so what follows starts a new line. */
  end(): void;
}

/** Where the bar is drawn: stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** A bar drawn on `stream`; undefined when it is not a terminal. */
export function stderrProgressBar(
  label: string,
  stream: ProgressStream = process.stderr,
): ProgressBar | undefined {
  if (!stream.isTTY) return undefined;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let lineOpen = false;
  return {
    update(event) {
      const done = event.total !== undefined && event.received >= event.total;
      const now = performance.now();
      if (!done && now - drawnAt < REDRAW_MS) return;
      drawnAt = now;
      stream.write(`\r\x1b[2K${renderProgress(label, event)}${done ? "\n" : ""}`);
      lineOpen = !done;
    },
    end() {
      if (lineOpen) stream.write("\n");
      lineOpen = false;
    },
  };
}

/**
 * Draws registry's download events as a bar per download ("pulling <reference>"); undefined when
 * `stream` is not a terminal, so that nothing is drawn.
 */
export function downloadProgressBar(
  stream: ProgressStream = process.stderr,
): ((event: DownloadEvent) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let bar: ProgressBar | undefined;
  return (event) => {
    switch (event.kind) {
      case "start":
        bar = stderrProgressBar(`pulling ${event.reference}`, stream);
        return;
      case "progress":
        bar?.update(event);
        return;
      case "end":
        bar?.end();
        bar = undefined;
        return;
      default:
        throw new Error(`unknown download event ${JSON.stringify(event satisfies never)}`);
    }
  };
}
