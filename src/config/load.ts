// Loads dstream.hcl into Task values: all tasks (validate), one task to run, or a listing.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { DstreamError, messageOf } from "../errors.ts";
import { type ProviderReference, parseReference } from "../oci/index.ts";
import type { BuiltinProviderName, ProviderRole } from "../protocol/builtins.ts";
import { type CheckedConfig, type CheckedTask, checkConfig, type TaskPolicy } from "./check.ts";
import { type ConfigLocation, type DiscoverOptions, findConfigFile } from "./discover.ts";
import { decodeConfigFile } from "./parse-file.ts";
import type { TaskInput } from "./schema.ts";
import type { StateSettings } from "./state-block.ts";
import { type JsonValue, setOwn, type ValuePath } from "./values.ts";

export type ProviderSource =
  | { kind: "ref"; reference: ProviderReference }
  | { kind: "path"; path: string; written: string }
  | { kind: "builtin"; name: BuiltinProviderName };

export interface ProviderSpec {
  role: ProviderRole;
  source: ProviderSource;
  config: Record<string, JsonValue>;
  /**
   * Where each setting of `config` was written, as `file:line:col`, by dotted path ("maxCount",
   * "tls.ca"); "" holds the config block (the provider's block when it has no config block).
   */
  positions: Record<string, string>;
}

export interface Task {
  name: string;
  type: "providers";
  input: ProviderSpec;
  output: ProviderSpec;
}

export interface LoadedConfig {
  location: ConfigLocation;
  tasks: Task[];
  /** Where the tasks' checkpoints live (the `state { }` block, or .dstream/ beside the file). */
  state: StateSettings;
}

export interface LoadedTask {
  location: ConfigLocation;
  task: Task;
  state: StateSettings;
}

/** The tasks as listed, and where their state lives (`dstream state` needs no env var either). */
export interface TaskList {
  location: ConfigLocation;
  tasks: TaskListing[];
  state: StateSettings;
}

/** A task as `dstream list` shows it: a template whose env var is unset stays as written. */
export interface TaskListing {
  name: string;
  type: "providers";
  input: { kind: ProviderSource["kind"]; provider: string };
  output: { kind: ProviderSource["kind"]; provider: string };
}

export interface LoadOptions extends DiscoverOptions {
  now?: () => Date;
  /**
   * loadConfig only. False for commands that need no secrets: an unset env var then leaves a
   * config or provider_path template as written (provider_ref and provider must still render).
   */
  requireEnv?: boolean;
  /**
   * loadConfig only: just these tasks (when given and not empty) are rendered and returned; the
   * others still get syntax and schema checks.
   */
  only?: readonly string[];
  /** Reuse the parse of an unchanged file from the cache folder (the load functions turn it on). */
  cache?: boolean;
}

async function readConfigFile(
  options: LoadOptions,
): Promise<{ source: string; location: ConfigLocation }> {
  const location = findConfigFile(options);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(location.path);
  } catch (error) {
    throw new DstreamError(
      "CONFIG_NOT_FOUND",
      `cannot read ${location.display}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return { source: decodeConfigFile(bytes, location), location };
}

/** Every task, checked in full (validate). */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const { source, location } = await readConfigFile(options);
  return parseConfig(source, location, { cache: true, ...options });
}

/** One task to run: only its templates must render; the others get syntax and schema checks. */
export async function loadTask(options: LoadOptions & { task: string }): Promise<LoadedTask> {
  const { source, location } = await readConfigFile(options);
  return parseTask(source, location, { cache: true, ...options });
}

/** The tasks as `dstream list` shows them, without needing any env var. */
export async function listTasks(options: LoadOptions = {}): Promise<TaskList> {
  const { source, location } = await readConfigFile(options);
  return parseTaskList(source, location, { cache: true, ...options });
}

/** loadConfig for source already read; exported for tests that feed mutated files. */
export async function parseConfig(
  source: string,
  location: ConfigLocation,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const policy: TaskPolicy = options.requireEnv === false ? "lenient" : "strict";
  const only = options.only?.length ? new Set(options.only) : undefined;
  const chosen = (name: string) => only === undefined || only.has(name);
  const checked = await checkConfig(source, location, {
    ...options,
    policyOf: (name) => (chosen(name) ? policy : "unchecked"),
  });
  const tasks = checked.tasks
    .filter((task) => chosen(task.name))
    .map((task) => toTask(task, location, checked.locate));
  return { location, tasks, state: checked.state };
}

/** loadTask for source already read. */
export async function parseTask(
  source: string,
  location: ConfigLocation,
  options: LoadOptions & { task: string },
): Promise<LoadedTask> {
  const checked = await checkConfig(source, location, {
    ...options,
    policyOf: (name) => (name === options.task ? "strict" : "unchecked"),
  });
  const task = checked.tasks.find((candidate) => candidate.name === options.task);
  if (!task) {
    const names = checked.tasks.map((candidate) => candidate.name).join(", ");
    throw new DstreamError(
      "TASK_NOT_FOUND",
      `task "${options.task}" not found in ${location.display} (tasks: ${names})`,
    );
  }
  return { location, task: toTask(task, location, checked.locate), state: checked.state };
}

/** listTasks for source already read. */
export async function parseTaskList(
  source: string,
  location: ConfigLocation,
  options: LoadOptions = {},
): Promise<TaskList> {
  const { tasks: checked, state } = await checkConfig(source, location, {
    ...options,
    policyOf: () => "listing",
  });
  const listing = (provider: TaskInput["input"]) =>
    provider.provider_ref !== undefined
      ? { kind: "ref" as const, provider: provider.provider_ref }
      : provider.provider_path !== undefined
        ? { kind: "path" as const, provider: provider.provider_path }
        : { kind: "builtin" as const, provider: provider.provider ?? "" };
  const tasks = checked.map(({ name, fields }) => ({
    name,
    type: fields.type,
    input: listing(fields.input),
    output: listing(fields.output),
  }));
  return { location, tasks, state };
}

/** A checked task whose provider_ref and provider rendered (strict and lenient policies). */
function toTask(
  { name, fields }: CheckedTask,
  location: ConfigLocation,
  locate: CheckedConfig["locate"],
): Task {
  const folder = dirname(location.path);
  const spec = (role: ProviderRole): ProviderSpec => ({
    role,
    source: providerSource(fields[role], folder),
    config: fields[role].config as Record<string, JsonValue>,
    positions: settingPositions(fields[role].config as JsonValue, ["task", name, role], locate),
  });
  return { name, type: fields.type, input: spec("input"), output: spec("output") };
}

/** Where a provider block's config and each of its settings were written (see ProviderSpec). */
function settingPositions(
  config: JsonValue,
  provider: ValuePath,
  locate: CheckedConfig["locate"],
): Record<string, string> {
  const at = (setting: ValuePath) => locate([...provider, "config", ...setting]);
  const positions: Record<string, string> = { "": at([]) };
  const walk = (value: JsonValue, setting: ValuePath) => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, [...setting, index]);
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        setOwn(positions, [...setting, key].join("."), at([...setting, key]));
        walk(item, [...setting, key]);
      }
    }
  };
  walk(config, []);
  return positions;
}

function providerSource(provider: TaskInput["input"], folder: string): ProviderSource {
  if (provider.provider_ref !== undefined) {
    const reference = parseReference(provider.provider_ref);
    if ("error" in reference) throw new DstreamError("INTERNAL", reference.error);
    return { kind: "ref", reference };
  }
  if (provider.provider_path !== undefined) {
    return {
      kind: "path",
      path: resolve(folder, provider.provider_path),
      written: provider.provider_path,
    };
  }
  return { kind: "builtin", name: provider.provider as BuiltinProviderName };
}
