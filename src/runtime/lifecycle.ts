// Lifecycle commands (init, plan, status, destroy): one envelope to a provider, one result line back.
import * as v from "valibot";
import { describeSource, type Task } from "../config/index.ts";
import { DstreamError, ExitCode } from "../errors.ts";
import {
  type LifecycleCommand,
  type LifecycleResult,
  lifecycleResultSchema,
} from "../protocol/index.ts";
import type { ResolveOptions } from "../registry/index.ts";
import {
  checkBuiltinConfigs,
  lockFilePathFor,
  providerLaunch,
  resolveProviderCommand,
} from "./provider-command.ts";
import { describeExit } from "./provider-exit.ts";
import { ProviderProcess } from "./provider-process.ts";
import { STOP_SIGNALS } from "./supervisor.ts";
import { startWatchdog } from "./watchdog.ts";

export type LifecycleTarget = "input" | "output" | "both";

export interface LifecycleOptions {
  configPath: string;
  target: LifecycleTarget;
  timeoutMs: number;
  /** Told how each provider download goes (the CLI draws a bar on a terminal). */
  onDownload?: ResolveOptions["onDownload"];
}

export interface LifecycleOutcome {
  role: "input" | "output";
  label: string;
  ok: boolean;
  result?: LifecycleResult;
  /** Why it failed when there is no usable result line. */
  problem?: string;
}

/** Provider output is bounded: a result is one line; more than this is a broken provider. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function lastResultLine(stdout: string): LifecycleResult | undefined {
  const lines = stdout.split("\n").filter((line) => line.trim() !== "");
  for (let index = lines.length - 1; index >= 0; index--) {
    try {
      const parsed = v.safeParse(lifecycleResultSchema, JSON.parse(lines[index] ?? ""));
      if (parsed.success) return parsed.output;
    } catch {
      // Not JSON: providers may print other text; keep looking.
    }
  }
  return undefined;
}

/**
 * Stop signals while a provider answers: the first asks it to stop (SIGTERM to its process group,
 * which a terminal's Ctrl-C does not reach), a second kills it; no provider outlives dstream.
 */
class LifecycleStop {
  signal: NodeJS.Signals | undefined;
  forcedBy: NodeJS.Signals | undefined;
  #current: ProviderProcess | undefined;
  readonly #onSignal = (name: NodeJS.Signals) => {
    if (this.signal === undefined) {
      this.signal = name;
      this.#current?.signal("SIGTERM");
    } else {
      this.forcedBy = name;
      this.#current?.signal("SIGKILL");
    }
  };

  constructor() {
    for (const signal of STOP_SIGNALS) process.on(signal, this.#onSignal);
  }

  watch(provider: ProviderProcess | undefined): void {
    this.#current = provider;
    if (provider && this.signal) provider.signal(this.forcedBy ? "SIGKILL" : "SIGTERM");
  }

  dispose(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.#onSignal);
  }
}

/** The provider's stdout as text; undefined (and the provider killed) past MAX_OUTPUT_BYTES. */
async function readBounded(provider: ProviderProcess): Promise<string | undefined> {
  const source = provider.stdout;
  if (!source) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > MAX_OUTPUT_BYTES) {
      provider.signal("SIGKILL");
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function runOne(
  task: Task,
  role: "input" | "output",
  command: LifecycleCommand,
  options: LifecycleOptions,
  stop: LifecycleStop,
): Promise<LifecycleOutcome> {
  const spec = task[role];
  const resolved = await resolveProviderCommand(task, spec, {
    lockFilePath: lockFilePathFor(options.configPath),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  });
  const provider = new ProviderProcess(providerLaunch(task, role, resolved, command));
  const watchdog = startWatchdog([provider.pid]);
  stop.watch(provider);
  provider.closeStdin();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    provider.signal("SIGKILL");
  }, options.timeoutMs);
  let stdout: string | undefined;
  let exit: Awaited<ReturnType<ProviderProcess["exited"]>>;
  try {
    stdout = await readBounded(provider);
    exit = await provider.exited();
  } finally {
    clearTimeout(timer);
    stop.watch(undefined);
    watchdog.release();
  }
  const outcome = { role, label: resolved.label };
  if (stdout === undefined) {
    return {
      ...outcome,
      ok: false,
      problem: "printed more than 16 MiB instead of one result line",
    };
  }
  const result = lastResultLine(stdout);
  if (timedOut) {
    return {
      ...outcome,
      ok: false,
      problem: `did not answer ${command} within ${options.timeoutMs / 1000} s`,
    };
  }
  if (exit.exitCode !== 0 && !stop.signal && result?.status === "Failed" && result.message) {
    // It said why (and exited non-zero, as SDK providers do on Failed): its reason is the news.
    return { ...outcome, ok: false, result };
  }
  if (exit.exitCode !== 0) {
    const stopped = stop.signal ? ` after dstream was stopped by ${stop.signal}` : "";
    return {
      ...outcome,
      ok: false,
      problem: `${describeExit(exit)}${stopped}`,
      ...(result ? { result } : {}),
    };
  }
  if (!result) {
    return {
      ...outcome,
      ok: false,
      problem: `printed no {"status":"Success|Failed"} result line for ${command}`,
    };
  }
  return { ...outcome, ok: result.status === "Success", result };
}

/** Sends `command` to the chosen providers, one after the other (input first). */
export async function runLifecycle(
  task: Task,
  command: LifecycleCommand,
  options: LifecycleOptions,
): Promise<LifecycleOutcome[]> {
  const roles: ("input" | "output")[] =
    options.target === "both" ? ["input", "output"] : [options.target];
  await checkBuiltinConfigs(task, roles);
  const outcomes: LifecycleOutcome[] = [];
  const stop = new LifecycleStop();
  try {
    for (const role of roles) {
      if (stop.signal) {
        // After a stop signal the next provider is not asked at all.
        const label = describeSource(task[role].source);
        const problem = `not asked: dstream was stopped by ${stop.signal}`;
        outcomes.push({ role, label, ok: false, problem });
        continue;
      }
      outcomes.push(await runOne(task, role, command, options, stop));
    }
  } finally {
    stop.dispose();
  }
  if (stop.forcedBy) {
    throw new DstreamError(
      "STOP_TIMEOUT",
      `task "${task.name}": ${command} forced to stop on a second ${stop.forcedBy}; provider killed`,
      { exitCode: ExitCode.forcedStop },
    );
  }
  return outcomes;
}

export function lifecycleFailure(
  task: Task,
  command: LifecycleCommand,
  outcomes: LifecycleOutcome[],
) {
  const failed = outcomes.filter((outcome) => !outcome.ok);
  if (failed.length === 0) return undefined;
  const problems = failed.map((outcome) => {
    const why = outcome.problem ?? `reported Failed: ${outcome.result?.message || "(no message)"}`;
    return `task "${task.name}": ${command} failed for the ${outcome.role} provider ${outcome.label}: ${why}`;
  });
  return new DstreamError("PROVIDER_FAILED", problems[0] ?? "", { problems });
}
