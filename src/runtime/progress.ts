// What a run shows: a live one-line display on a TTY (at most 4 refreshes a second) and a summary.
import { type CounterSnapshot, readCounters } from "../relay/counters.ts";
import { drawLiveLine } from "./live-line.ts";
import type { SessionReport } from "./session-state.ts";

/** What a run lost, in bytes (0 when nothing): as the session reports them (SessionReport). */
export type RunLosses = Required<Pick<SessionReport, "cutLineBytes" | "outputUnreadBytes">>;

export interface RunStats extends CounterSnapshot, RunLosses {
  task: string;
  durationMs: number;
  linesPerSecond: number;
  bytesPerSecond: number;
  /** The task's committed checkpoint after the run (null: none; v1 inputs have none). */
  checkpoint?: { value: unknown; committedAt: string; inThisRun: boolean } | null;
}

export function statsOf(
  task: string,
  counters: CounterSnapshot,
  durationMs: number,
  losses: RunLosses = { cutLineBytes: 0, outputUnreadBytes: 0 },
): RunStats {
  const seconds = Math.max(durationMs, 1) / 1000;
  return {
    task,
    ...losses,
    ...counters,
    durationMs: Math.round(durationMs),
    linesPerSecond: Math.round(counters.lines / seconds),
    bytesPerSecond: Math.round(counters.bytes / seconds),
  };
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

/** `5 lines, 412 B in 5.0 s (1 lines/s, 82 B/s), 0 backpressure waits` */
export function formatSummary(stats: RunStats): string {
  const waits = `${formatCount(stats.waits)} backpressure wait${stats.waits === 1 ? "" : "s"}`;
  const waited = stats.waits > 0 ? ` (${formatCount(stats.waitMs)} ms)` : "";
  const empty =
    stats.emptyLines > 0 ? `, ${formatCount(stats.emptyLines)} empty lines dropped` : "";
  const cut =
    stats.cutLineBytes > 0
      ? `, a last line cut off mid-line by the input's end dropped (${formatBytes(stats.cutLineBytes)})`
      : "";
  return (
    `${formatCount(stats.lines)} lines, ${formatBytes(stats.bytes)} in ${(stats.durationMs / 1000).toFixed(1)} s ` +
    `(${formatCount(stats.linesPerSecond)} lines/s, ${formatBytes(stats.bytesPerSecond)}/s)${acknowledged(stats)}, ${waits}${waited}${empty}${cut}`
  );
}

/** `, 5 acknowledged (last commit 0.2 s ago)` once the input has sent checkpoints. */
function acknowledged(counters: CounterSnapshot, now = Date.now()): string {
  if (counters.checkpoints === 0) return "";
  const age =
    counters.committedAt > 0
      ? `last commit ${((now - counters.committedAt) / 1000).toFixed(1)} s ago`
      : "nothing committed yet";
  return `, ${formatCount(counters.ackedLines)} acknowledged (${age})`;
}

export interface LiveDisplay {
  stop(): void;
}

/** Redraws one stderr line every 250 ms from the shared counters; a no-op off a TTY. */
export function startLiveDisplay(
  task: string,
  counters: SharedArrayBuffer,
  enabled: boolean,
): LiveDisplay {
  if (!enabled) return { stop() {} };
  const started = performance.now();
  let previous = { lines: 0, at: started };
  const draw = () => {
    const now = performance.now();
    const snapshot = readCounters(counters);
    const rate = ((snapshot.lines - previous.lines) * 1000) / Math.max(now - previous.at, 1);
    previous = { lines: snapshot.lines, at: now };
    const line =
      `${task}: ${formatCount(Math.round(rate))} events/s · ${formatCount(snapshot.lines)} lines` +
      `${acknowledged(snapshot).replace(", ", " · ")} · ` +
      `${formatBytes(snapshot.bytes)} · ${formatCount(snapshot.waits)} waits · buffered ${formatBytes(snapshot.buffered)}`;
    drawLiveLine(line);
  };
  const timer = setInterval(draw, 250);
  return {
    stop() {
      clearInterval(timer);
      drawLiveLine(undefined);
    },
  };
}
