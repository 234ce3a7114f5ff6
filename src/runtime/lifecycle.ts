// Lifecycle commands (init, plan, status, destroy): one envelope to a provider, one result line back,
// on the same supervision as a run (its stop signals, bounded waits, watchdog and provider exits).
import * as v from "valibot";
import type { Task } from "../config/index.ts";
import { DstreamError, ExitCode } from "../errors.ts";
import {
  type LifecycleCommand,
  type LifecycleResult,
  lifecycleResultSchema,
} from "../protocol/index.ts";
import type { ResolveOptions } from "../registry/index.ts";
import {
  checkBuiltinConfigs,
  describeSource,
  lockFilePathFor,
  providerLaunch,
  resolveProvider,
} from "./provider-command.ts";
import { describeExit, type ProviderExit } from "./provider-exit.ts";
import { ProviderProcess } from "./provider-process.ts";
import { StopSignals, type Supervisable, supervise } from "./supervisor.ts";
import { startWatchdog } from "./watchdog.ts";

export type LifecycleTarget = "input" | "output" | "both";

export interface LifecycleOptions {
  configPath: string;
  target: LifecycleTarget;
  timeoutMs: number;
  /** Told how each provider download goes (the CLI draws a bar on a terminal). */
  onDownload?: ResolveOptions["onDownload"];
  /** Told what is worth a warning, e.g. processes a provider left running, killed (stderr). */
  notice?: (line: string) => void;
}

/** How one provider answered a lifecycle command (the SDK's LifecycleOutcome is a hook's return). */
export interface LifecycleAnswer {
  role: "input" | "output";
  label: string;
  ok: boolean;
  result?: LifecycleResult;
  /** Why it failed when there is no usable result line. */
  problem?: string;
}

/** Provider output is bounded: a result is one line; more than this is a broken provider. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** How a provider ended: its stdout and exit, or cut off (and killed) for printing too much. */
type Ended = { stdout: string; exit: ProviderExit } | { tooLong: true };

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

/** One provider asked: its stdout read (bounded) to its end, then its exit; the watchdog meanwhile. */
function ask(provider: ProviderProcess): Supervisable<Ended> {
  const watchdog = startWatchdog([provider.pid]);
  provider.closeStdin();
  const ended = async (): Promise<Ended> => {
    try {
      const stdout = await readBounded(provider);
      const exit = await provider.exited();
      return stdout === undefined ? { tooLong: true } : { stdout, exit };
    } finally {
      watchdog.release();
    }
  };
  return {
    result: ended(),
    stop: () => provider.signal("SIGTERM"),
    kill: () => provider.signal("SIGKILL"),
  };
}

/** How asking one provider went, as supervision saw it. */
interface Asked {
  /** Undefined: it was killed and did not end. */
  ended: Ended | undefined;
  /** It did not answer within the command's --timeout and was killed. */
  timedOut: boolean;
  /** The stop signal dstream got while (or before) it answered. */
  stoppedBy: string | undefined;
}

/** What one provider's end means, without processes: the first reason that applies wins. */
function judge(
  command: LifecycleCommand,
  timeoutMs: number,
  { ended, timedOut, stoppedBy }: Asked,
): Omit<LifecycleAnswer, "role" | "label"> {
  if (ended && "tooLong" in ended) {
    return { ok: false, problem: "printed more than 16 MiB instead of one result line" };
  }
  if (timedOut) {
    return { ok: false, problem: `did not answer ${command} within ${timeoutMs / 1000} s` };
  }
  if (!ended) return { ok: false, problem: "was killed and did not end" };
  const { stdout, exit } = ended;
  const result = lastResultLine(stdout);
  if (exit.exitCode !== 0 && !stoppedBy && result?.status === "Failed" && result.message) {
    // It said why (and exited non-zero, as SDK providers do on Failed): its reason is the news.
    return { ok: false, result };
  }
  if (exit.exitCode !== 0) {
    const stopped = stoppedBy ? ` after dstream was stopped by ${stoppedBy}` : "";
    return { ok: false, problem: `${describeExit(exit)}${stopped}`, ...(result ? { result } : {}) };
  }
  if (!result) {
    return {
      ok: false,
      problem: `printed no {"status":"Success|Failed"} result line for ${command}`,
    };
  }
  return { ok: result.status === "Success", result };
}

async function askOne(
  task: Task,
  role: "input" | "output",
  command: LifecycleCommand,
  options: LifecycleOptions,
  signals: StopSignals,
): Promise<LifecycleAnswer> {
  const resolved = await resolveProvider(task, task[role], {
    lockFilePath: lockFilePathFor(options.configPath),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  });
  const notice = options.notice;
  const provider = new ProviderProcess(
    providerLaunch(task, role, resolved, command),
    undefined,
    notice ? (line) => notice(`task "${task.name}": ${line}`) : undefined,
  );
  const { result: ended, timedOut } = await supervise(ask(provider), signals, {
    deadlineMs: options.timeoutMs,
  });
  const asked = { ended, timedOut, stoppedBy: signals.stoppedBy };
  return { role, label: resolved.label, ...judge(command, options.timeoutMs, asked) };
}

/** Sends `command` to the chosen providers, one after the other (input first). */
export async function runLifecycleCommand(
  task: Task,
  command: LifecycleCommand,
  options: LifecycleOptions,
): Promise<LifecycleAnswer[]> {
  const roles: ("input" | "output")[] =
    options.target === "both" ? ["input", "output"] : [options.target];
  await checkBuiltinConfigs(task, roles);
  const answers: LifecycleAnswer[] = [];
  // One listener for the whole command: a signal between two providers is not lost.
  const signals = new StopSignals();
  try {
    for (const role of roles) {
      if (signals.stoppedBy) {
        // After a stop signal the next provider is not asked at all.
        const label = describeSource(task[role].source);
        const problem = `not asked: dstream was stopped by ${signals.stoppedBy}`;
        answers.push({ role, label, ok: false, problem });
        continue;
      }
      answers.push(await askOne(task, role, command, options, signals));
    }
  } finally {
    signals.dispose();
  }
  if (signals.forcedBy) {
    throw new DstreamError(
      "STOP_TIMEOUT",
      `task "${task.name}": ${command} forced to stop on a second ${signals.forcedBy}; provider killed`,
      { exitCode: ExitCode.forcedStop },
    );
  }
  return answers;
}

export function lifecycleFailure(
  task: Task,
  command: LifecycleCommand,
  answers: LifecycleAnswer[],
) {
  const failed = answers.filter((answer) => !answer.ok);
  if (failed.length === 0) return undefined;
  const problems = failed.map((answer) => {
    const why = answer.problem ?? `reported Failed: ${answer.result?.message || "(no message)"}`;
    return `task "${task.name}": ${command} failed for the ${answer.role} provider ${answer.label}: ${why}`;
  });
  return new DstreamError("PROVIDER_FAILED", problems[0] ?? "", { problems });
}
