// Turns a task's provider source into the argv that starts it: built-in, file on disk, or OCI pull.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ProviderSource, ProviderSpec, Task } from "../config/index.ts";
import { DstreamError } from "../errors.ts";
import { type EnvelopeCommand, PROTOCOL_VERSION, providerEnv } from "../protocol/index.ts";
import { builtinConfigProblems } from "../providers/index.ts";
import { type ResolveOptions, resolveProviderRef } from "../registry/index.ts";
import type { ProviderLaunch } from "./provider-process.ts";
import { selfCommand } from "./self-command.ts";

/** A provider ready to start: its argv, and how the user wrote it. */
export interface LaunchableProvider {
  argv: string[];
  /** How the user wrote the provider: built-in name, path as written, or OCI reference. */
  label: string;
}

/** How the user wrote a provider: built-in name, path as written, or OCI reference. */
export function describeSource(source: ProviderSource): string {
  switch (source.kind) {
    case "ref":
      return source.reference.original;
    case "path":
      return source.written;
    case "builtin":
      return source.name;
  }
}

export type RegistryOptions = Omit<ResolveOptions, "env">;

/** Checks a provider_path before anything starts; a bad one is a config error (exit 2). */
function checkExecutable(task: Task, spec: ProviderSpec, path: string, written: string): void {
  const where = `task "${task.name}" › ${spec.role} › provider_path`;
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw new DstreamError(
      "PROVIDER_NOT_FOUND",
      `${where}: ${written} not found (looked at ${path})`,
    );
  }
  if (stats.isDirectory()) {
    throw new DstreamError(
      "PROVIDER_NOT_FOUND",
      `${where}: ${written} is a directory, not an executable`,
    );
  }
  if (process.platform === "win32") return;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new DstreamError(
      "PROVIDER_NOT_FOUND",
      `${where}: ${written} is not executable (chmod +x ${written})`,
    );
  }
}

export async function resolveProvider(
  task: Task,
  spec: ProviderSpec,
  registry: RegistryOptions,
): Promise<LaunchableProvider> {
  const label = describeSource(spec.source);
  const { source } = spec;
  switch (source.kind) {
    case "builtin":
      return { argv: selfCommand(["__provider", source.name]), label };
    case "path":
      checkExecutable(task, spec, source.path, source.written);
      return { argv: [source.path], label };
    case "ref": {
      const resolved = await resolveProviderRef(source.reference, registry);
      return { argv: [resolved.path], label };
    }
  }
}

/**
 * Checks the config of each built-in provider among `roles` with the provider's own schema, so a
 * typo is a config error before anything starts (exit 2), every problem at once.
 */
export async function checkBuiltinConfigs(
  task: Task,
  roles: readonly ("input" | "output")[] = ["input", "output"],
): Promise<void> {
  const problems = await builtinConfigProblemsOf(task, roles);
  if (problems.length > 0) {
    throw new DstreamError("CONFIG_INVALID", problems[0] ?? "", { problems });
  }
}

/** Every problem of the built-in providers' configs among `roles`, one line each. */
export async function builtinConfigProblemsOf(
  task: Task,
  roles: readonly ("input" | "output")[] = ["input", "output"],
): Promise<string[]> {
  const problems: string[] = [];
  for (const role of roles) {
    const { source, config, positions } = task[role];
    if (source.kind !== "builtin") continue;
    for (const problem of await builtinConfigProblems(source.name, role, config)) {
      const setting = problem.path ? problem.path.split(".") : [];
      const where = ["config", ...setting].join(" › ");
      problems.push(
        `${settingPosition(positions, setting)}: task "${task.name}" › ${role} (${source.name}) › ${where}: ${problem.message}`,
      );
    }
  }
  return problems;
}

/** Where a setting was written; a missing one: where the nearest setting or block around it was. */
function settingPosition(positions: Record<string, string>, setting: readonly string[]): string {
  for (let length = setting.length; length > 0; length--) {
    const path = setting.slice(0, length).join(".");
    if (Object.hasOwn(positions, path)) return positions[path] ?? "";
  }
  return positions[""] ?? "";
}

/** dstream.lock.hcl sits beside the config file. */
export function lockFilePathFor(configPath: string): string {
  return join(dirname(configPath), "dstream.lock.hcl");
}

/**
 * Everything needed to start one of a task's providers for `envelopeCommand`. The envelope speaks
 * protocol v2: `checkpoint` is the input's resume point (JSON text of the committed one), null for
 * an output and for a first run.
 */
export function providerLaunch(
  task: Task,
  role: "input" | "output",
  provider: LaunchableProvider,
  envelopeCommand: EnvelopeCommand,
  checkpoint: string | undefined = undefined,
): ProviderLaunch {
  const config = JSON.stringify(task[role].config);
  const resume = role === "input" && checkpoint !== undefined ? checkpoint : "null";
  return {
    task: task.name,
    role,
    label: provider.label,
    argv: provider.argv,
    env: {
      ...process.env,
      [providerEnv.task]: task.name,
      [providerEnv.role]: role,
    } as Record<string, string>,
    cwd: process.cwd(),
    envelope: `{"command":${JSON.stringify(envelopeCommand)},"config":${config},"protocol":${PROTOCOL_VERSION},"checkpoint":${resume}}`,
    logPrefix: `[${task.name}/${role}]`,
  };
}
