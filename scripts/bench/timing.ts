// Wall-time measurement of whole commands: interleaved runs, so a baseline and the command under
// test share the same machine load, summarised as median, min and p90.
import { cpus, loadavg } from "node:os";

export interface TimedCommand {
  label: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface Timing {
  label: string;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  p90Ms: number;
}

export interface TimingOptions {
  runs: number;
  warmup: number;
  /** Bound on one run; a slower one fails the benchmark instead of hanging it. */
  timeoutMs?: number;
}

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function runOnce(command: TimedCommand, timeoutMs: number): number {
  const started = performance.now();
  const result = Bun.spawnSync(command.argv, {
    cwd: command.cwd,
    env: command.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdout: "ignore",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  const elapsed = performance.now() - started;
  if (result.exitCode !== 0) {
    const reason =
      result.exitCode === null ? `timed out after ${timeoutMs} ms` : `exit ${result.exitCode}`;
    throw new Error(`${command.label}: ${reason}: ${result.stderr.toString().trim()}`);
  }
  return elapsed;
}

/** Runs each command `runs` times in turn (A B A B ...), after `warmup` unrecorded rounds. */
export function timeCommands(commands: TimedCommand[], options: TimingOptions): Timing[] {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const samples = commands.map(() => [] as number[]);
  for (let round = 0; round < options.warmup + options.runs; round++) {
    commands.forEach((command, index) => {
      const elapsed = runOnce(command, timeoutMs);
      if (round >= options.warmup) samples[index]?.push(elapsed);
    });
  }
  return commands.map((command, index) => {
    const sorted = [...(samples[index] ?? [])].sort((a, b) => a - b);
    return {
      label: command.label,
      samplesMs: samples[index] ?? [],
      medianMs: percentile(sorted, 0.5),
      minMs: sorted[0] ?? Number.NaN,
      p90Ms: percentile(sorted, 0.9),
    };
  });
}

export function timingTable(timings: Timing[]): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return [
    "| command | median | min | p90 | runs |",
    "|---|---:|---:|---:|---:|",
    ...timings.map(
      (t) =>
        `| \`${t.label}\` | ${ms(t.medianMs)} | ${ms(t.minMs)} | ${ms(t.p90Ms)} | ${t.samplesMs.length} |`,
    ),
  ].join("\n");
}

/** One line describing the machine, since figures only compare within one run on one machine. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  const busy =
    (loadavg()[0] ?? 0) > cpus().length
      ? " (busy: load above the core count, absolute times inflated; ratios hold better)"
      : "";
  return `${new Date().toISOString().slice(0, 16)}Z, ${process.platform}/${process.arch}, ${cpus().length} × ${cpu}, load average ${load}${busy}, Bun ${Bun.version}`;
}
