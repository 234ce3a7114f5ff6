// dstream run: resolve both providers, run the relay under supervision, report and judge the end.
import { writeFile } from "node:fs/promises";
import type { Task } from "../config/index.ts";
import { DstreamError, ExitCode, messageOf } from "../errors.ts";
import type { ResolveOptions } from "../registry/index.ts";
import { createCounterBuffer, readCounters } from "../relay/index.ts";
import {
  currentRunOwner,
  openStateStore,
  type StateLocation,
  type StateRecord,
} from "../state/index.ts";
import { besideLiveLine } from "./live-line.ts";
import {
  formatBytes,
  formatSummary,
  type RunStats,
  startLiveDisplay,
  statsOf,
} from "./progress.ts";
import {
  checkBuiltinConfigs,
  lockFilePathFor,
  providerLaunch,
  resolveProvider,
} from "./provider-command.ts";
import type { SessionReport } from "./session.ts";
import { type SuperviseOutcome, superviseSession } from "./supervisor.ts";

export interface RunTaskOptions {
  /** The config file; the lock file sits beside it. */
  configPath: string;
  /** Where the task's checkpoint lives (the config's `state { }` block). */
  state: StateLocation;
  bufferBytes: number;
  maxLineBytes: number;
  shutdownTimeoutMs: number;
  /** Live display on stderr (a TTY and not --quiet). */
  live: boolean;
  statsJsonPath?: string | undefined;
  upgrade?: boolean;
  /** Told how each provider download goes (the CLI draws a bar on a terminal). */
  onDownload?: ResolveOptions["onDownload"];
  /** Receives the summary line and notices (stderr). */
  log: (line: string) => void;
  /** Receives warnings, e.g. a provider slow to exit (stderr); `log` when not given. */
  warn?: (line: string) => void;
}

export interface RunResult {
  stats: RunStats;
}

export async function runTask(task: Task, options: RunTaskOptions): Promise<RunResult> {
  const registry = {
    lockFilePath: lockFilePathFor(options.configPath),
    ...(options.upgrade ? { upgrade: true } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  };
  await checkBuiltinConfigs(task);
  const store = openStateStore(options.state);
  const owner = currentRunOwner();
  // Held for the whole run: no two runs of one task, from this process or another.
  const lock = await store.lock(task.name, owner);
  try {
    const resumed = await store.read(task.name);
    const persist = (value: string, at: number): Promise<void> =>
      store.write(task.name, {
        checkpoint: JSON.parse(value),
        committedAt: new Date(at).toISOString(),
        committedBy: owner,
      });
    return await runLocked(task, options, registry, { resumed, persist, lost: lock.lost });
  } finally {
    await lock.release();
  }
}

/** The task's state as the run sees it: where it resumes, how it commits, and its lock's loss. */
interface RunState {
  resumed: StateRecord | undefined;
  persist: (value: string, at: number) => Promise<void>;
  lost: AbortSignal | undefined;
}

/** A run whose lock was lost stops as on SIGTERM (draining), then fails with the loss. */
const stopOnLostLock = () => process.emit("SIGTERM", "SIGTERM");

async function runLocked(
  task: Task,
  options: RunTaskOptions,
  registry: ResolveOptions & { lockFilePath: string },
  { resumed, persist, lost }: RunState,
): Promise<RunResult> {
  const input = await resolveProvider(task, task.input, registry);
  const output = await resolveProvider(task, task.output, registry);
  if (lost?.aborted) throw lost.reason;
  const resumeFrom = resumed ? JSON.stringify(resumed.checkpoint) : undefined;
  const counters = createCounterBuffer();
  const started = performance.now();
  const display = startLiveDisplay(task.name, counters, options.live);
  let outcome: SuperviseOutcome;
  // Registered with the supervisor's signal handlers, synchronously after the check above.
  lost?.addEventListener("abort", stopOnLostLock, { once: true });
  try {
    outcome = await superviseSession({
      config: {
        input: providerLaunch(task, "input", input, "run", resumeFrom),
        output: providerLaunch(task, "output", output, "run"),
        persistCheckpoint: (checkpoint) => persist(checkpoint.value, checkpoint.at),
        limits: { bufferBytes: options.bufferBytes, maxLineBytes: options.maxLineBytes },
        counters,
        stopTimeoutMs: options.shutdownTimeoutMs,
        notice: (line) =>
          besideLiveLine(() => (options.warn ?? options.log)(`task "${task.name}": ${line}`)),
      },
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      onStopRequested: (signal) => {
        display.stop();
        if (lost?.aborted) return;
        options.log(`${signal}: stopping task "${task.name}" (draining; a second signal forces)`);
      },
    });
  } finally {
    lost?.removeEventListener("abort", stopOnLostLock);
    display.stop();
  }
  const report = outcome.report;
  const committed = report?.committed;
  const stats = statsOf(task.name, readCounters(counters), performance.now() - started, {
    cutLineBytes: report?.cutLineBytes ?? 0,
    outputUnreadBytes: report?.outputUnreadBytes ?? 0,
  });
  // The task's checkpoint after this run: committed now, or the one it resumed from.
  stats.checkpoint = committed
    ? {
        value: JSON.parse(committed.value),
        committedAt: new Date(committed.at).toISOString(),
        inThisRun: true,
      }
    : resumed
      ? { value: resumed.checkpoint, committedAt: resumed.committedAt, inThisRun: false }
      : null;
  const error = lost?.aborted
    ? (lost.reason as DstreamError)
    : judge(task, outcome, options.shutdownTimeoutMs);
  // A failed run's figures must not read as a success: its error line follows.
  const summary = formatSummary(stats);
  options.log(`${task.name}: ${error ? `failed after ${summary}` : summary}`);
  const statsProblem = options.statsJsonPath
    ? await writeStats(options.statsJsonPath, stats, error)
    : undefined;
  // The run's own failure stays the error (and its exit code); a stats file problem is added to it.
  if (error) {
    if (!statsProblem) throw error;
    throw new DstreamError(error.code, error.message, {
      details: [...error.details, statsProblem],
      exitCode: error.exitCode,
    });
  }
  if (statsProblem) throw new DstreamError("STATS_WRITE", statsProblem);
  return { stats };
}

function counts(report: SessionReport | undefined): string {
  if (!report) return "";
  const unread = report.outputUnreadBytes
    ? `; the ${report.output.signal ? "killed " : ""}output had not read ${formatBytes(report.outputUnreadBytes)} of its stdin`
    : "";
  return ` (${report.relayedLines} lines relayed, ${report.inFlightLines} in flight${unread})`;
}

function judge(task: Task, outcome: SuperviseOutcome, timeoutMs: number): DstreamError | undefined {
  const prefix = `task "${task.name}"`;
  switch (outcome.kind) {
    case "forced":
      return new DstreamError(
        "STOP_TIMEOUT",
        `${prefix}: forced stop on a second ${outcome.signal}; providers killed`,
        {
          exitCode: ExitCode.forcedStop,
        },
      );
    case "timed-out":
      return new DstreamError(
        "STOP_TIMEOUT",
        `${prefix}: providers did not stop within ${timeoutMs / 1000} s of SIGTERM and were killed${counts(outcome.report)}`,
      );
    case "finished": {
      const { report } = outcome;
      if (!report.failure) return undefined;
      const role = report.failure.role;
      const tail = role ? report[role].stderrTail : [];
      // A provider that exited with an "error: ..." line said why: that goes on the error line.
      const said = report.failure.code === "PROVIDER_FAILED" ? statedCause(tail) : undefined;
      const cause = said ? `: ${said.cause}` : "";
      const shown = said && tail.length === 1 ? [] : tail;
      const details =
        shown.length > 0
          ? [`last stderr lines of the ${role} provider:`, ...shown.map((line) => `  ${line}`)]
          : [];
      return new DstreamError(
        report.failure.code,
        `${prefix}: ${report.failure.message}${cause}${counts(report)}`,
        { details },
      );
    }
  }
}

/** The last `error: <cause>` line a provider wrote to stderr, as the SDK's providers do on failure. */
function statedCause(tail: readonly string[]): { cause: string } | undefined {
  for (let index = tail.length - 1; index >= 0; index--) {
    const match = /^error:\s*(\S.*)$/i.exec(tail[index] ?? "");
    if (match?.[1]) return { cause: match[1] };
  }
  return undefined;
}

/** Writes the stats file; returns a one-line problem instead of throwing. */
async function writeStats(
  path: string,
  stats: RunStats,
  error: DstreamError | undefined,
): Promise<string | undefined> {
  const body = { ...stats, ok: !error, ...(error ? { error: error.message } : {}) };
  try {
    await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
    return undefined;
  } catch (cause) {
    return `cannot write --stats-json ${path}: ${messageOf(cause)}`;
  }
}
