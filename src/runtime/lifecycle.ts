// Lifecycle commands (init, plan, status, destroy): one envelope to a provider, one result line back.
import * as v from "valibot";
import type { Task } from "../config/index.ts";
import { DstreamError } from "../errors.ts";
import {
  type LifecycleCommand,
  type LifecycleResult,
  lifecycleResultSchema,
} from "../protocol/index.ts";
import { lockFilePathFor, providerLaunch, resolveProviderCommand } from "./provider-command.ts";
import { describeExit, ProviderProcess } from "./provider-process.ts";

export type LifecycleTarget = "input" | "output" | "both";

export interface LifecycleOptions {
  configPath: string;
  target: LifecycleTarget;
  timeoutMs: number;
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
): Promise<LifecycleOutcome> {
  const spec = task[role];
  const resolved = await resolveProviderCommand(task, spec, {
    lockFilePath: lockFilePathFor(options.configPath),
  });
  const provider = new ProviderProcess(providerLaunch(task, role, resolved, command));
  provider.closeStdin();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    provider.signal("SIGKILL");
  }, options.timeoutMs);
  const stdout = await readBounded(provider);
  const exit = await provider.exited();
  clearTimeout(timer);
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
  if (exit.exitCode !== 0) {
    return { ...outcome, ok: false, problem: describeExit(exit), ...(result ? { result } : {}) };
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
  const outcomes: LifecycleOutcome[] = [];
  for (const role of roles) outcomes.push(await runOne(task, role, command, options));
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
