// Loads dstream.hcl: parse HCL, normalise blocks, render templates, validate, build Task values.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import * as v from "valibot";
import { DstreamError, messageOf } from "../errors.ts";
import type { BuiltinProviderName, ProviderRole } from "../protocol/builtins.ts";
import { type ProviderReference, parseReference } from "../registry/reference.ts";
import { type ConfigLocation, type DiscoverOptions, findConfigFile } from "./discover.ts";
import { HclSyntaxError, parseHcl } from "./hcl.ts";
import { outlineHcl } from "./outline.ts";
import { openParseCache } from "./parse-cache.ts";
import { ProblemReport } from "./problem-report.ts";
import { droppedKeyIssues, taskSchema, UNKNOWN_KEY } from "./schema.ts";
import {
  convertString,
  convertValue,
  type JsonValue,
  setOwn,
  type ValueContext,
  type ValuePath,
} from "./values.ts";

export type ProviderSource =
  | { kind: "ref"; reference: ProviderReference }
  | { kind: "path"; path: string; written: string }
  | { kind: "builtin"; name: BuiltinProviderName };

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

export interface ProviderSpec {
  role: ProviderRole;
  source: ProviderSource;
  config: Record<string, JsonValue>;
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
}

export interface LoadOptions extends DiscoverOptions {
  now?: () => Date;
  /** False for commands that only show tasks: an unset env var then leaves its template as written. */
  requireEnv?: boolean;
  /** Reuse the parse of an unchanged file from the cache folder (loadConfig turns it on). */
  cache?: boolean;
}

export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const location = findConfigFile(options);
  let source: string;
  try {
    source = await readFile(location.path, "utf8");
  } catch (error) {
    throw new DstreamError(
      "CONFIG_NOT_FOUND",
      `cannot read ${location.display}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  return parseConfig(source, location, { cache: true, ...options });
}

/** Parses config source already read; exported for tests that feed mutated files. */
export async function parseConfig(
  source: string,
  location: ConfigLocation,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  let raw: Record<string, unknown>;
  try {
    const cache = options.cache ? openParseCache(options.env ?? process.env) : undefined;
    const cached = cache?.get(source);
    raw = cached ?? (await parseHcl(source));
    if (!cached) cache?.set(source, raw);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    const problems = error.diagnostics.map((d) =>
      d.line > 0
        ? `${location.display}:${d.line}:${d.column}: ${d.summary}`
        : `${location.display}: ${d.summary}`,
    );
    throw new DstreamError("CONFIG_SYNTAX", problems[0] ?? "invalid HCL", { problems });
  }
  const outline = outlineHcl(source);
  const report = new ProblemReport(location.display, outline);
  const context: ValueContext = {
    env: options.env ?? process.env,
    now: options.now ?? (() => new Date()),
    outline,
    requireEnv: options.requireEnv ?? true,
    problems: [],
  };
  const tasks: Task[] = [];
  for (const key of Object.keys(raw)) {
    if (key !== "task") {
      const kind = report.isBlock([key]) ? "block" : "attribute";
      report.add([key], `unknown ${kind} "${key}" (only task blocks are allowed at the top level)`);
    }
  }
  // hcl2json sorts keys; tasks keep the order of the file.
  const byLine = (name: string) => report.positionOf(["task", name])?.line ?? 0;
  const entries = taskBodies(raw.task, report).sort(([a], [b]) => byLine(a) - byLine(b));
  for (const [name, bodies] of entries) {
    if (bodies.length > 1) {
      const first = report.positionOf(["task", name])?.line;
      report.add(
        ["task", name],
        "defined more than once",
        first ? { occurrence: 1, firstLine: first } : {},
      );
    }
    const task = buildTask(name, bodies[0], location, context, report);
    if (task) tasks.push(task);
  }
  for (const { path, position } of outline.mixed) {
    const name = path.at(-1) ?? "";
    report.add(path, `"${name}" is set both as an attribute and as a block: keep one`, {
      at: position,
    });
  }
  for (const problem of context.problems) report.add(problem.path, problem.message);
  report.throwIfAny();
  if (tasks.length === 0) {
    throw new DstreamError("CONFIG_INVALID", `${location.display}: no task blocks found`);
  }
  return { location, tasks };
}

function taskBodies(value: unknown, report: ProblemReport): [string, unknown[]][] {
  if (value === undefined) return [];
  if (Array.isArray(value) || typeof value !== "object" || value === null) {
    report.add(["task"], 'a task block needs one name: task "my-pipeline" { ... }');
    return [];
  }
  const entries: [string, unknown[]][] = [];
  for (const [name, bodies] of Object.entries(value)) {
    if (!Array.isArray(bodies)) {
      report.add(["task", name], 'a task block takes exactly one name: task "my-pipeline" { ... }');
      continue;
    }
    if (name.trim() === "") {
      report.add(["task", name], "the task name is empty");
      continue;
    }
    // Names are printed one task per line and inside one-line errors.
    const control = /[\p{Cc}\u2028\u2029]/u.exec(name)?.[0];
    if (control) {
      const code = `U+${(control.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
      report.add(
        ["task", name],
        `a task name cannot contain control characters or line breaks (found ${code})`,
      );
      continue;
    }
    entries.push([name, bodies]);
  }
  return entries;
}

/** Unwraps a block that must appear at most once, reporting repeats. */
function singleBlock(value: unknown, path: ValuePath, report: ProblemReport): unknown {
  if (!Array.isArray(value)) return value;
  // Point at the second block: the first is the one a reader expects to be there.
  if (value.length > 1) {
    report.add(path, `only one ${String(path.at(-1))} block is allowed`, { occurrence: 1 });
  }
  return value[0];
}

function buildTask(
  name: string,
  body: unknown,
  location: ConfigLocation,
  context: ValueContext,
  report: ProblemReport,
): Task | undefined {
  const taskPath = ["task", name];
  if (typeof body !== "object" || body === null) return undefined;
  const fields: Record<string, unknown> = { ...body };
  for (const role of ["input", "output"] as const) {
    // Left absent, not undefined, so the schema reports "input block is missing".
    if (!(role in fields)) continue;
    let value = fields[role];
    if (report.hasLabels([...taskPath, role]) && typeof value === "object" && value !== null) {
      report.add([...taskPath, role], `${role} takes no label: write ${role} { ... }`);
      // Check the body anyway, so its own problems are reported in the same run.
      value = Object.values(value)[0];
    }
    const provider = singleBlock(value, [...taskPath, role], report);
    fields[role] = normaliseProvider(provider, [...taskPath, role], context, report);
  }
  const result = v.safeParse(taskSchema, fields);
  const dropped = droppedKeyIssues(fields);
  for (const issue of dropped) {
    const issuePath = [...taskPath, ...issue.path];
    report.add(issuePath, unknownKeyMessage(issue.message, issuePath, report));
  }
  if (!result.success) {
    for (const issue of result.issues) {
      const issuePath = [...taskPath, ...(issue.path ?? []).map((item) => item.key as string)];
      const message =
        issue.expected === UNKNOWN_KEY
          ? unknownKeyMessage(issue.message, issuePath, report)
          : issue.message;
      report.add(issuePath, message);
    }
    return undefined;
  }
  if (dropped.length > 0) return undefined;
  const folder = dirname(location.path);
  const spec = (role: ProviderRole): ProviderSpec => {
    const provider = result.output[role];
    return {
      role,
      source: providerSource(provider, folder),
      config: provider.config as Record<string, JsonValue>,
    };
  };
  return { name, type: result.output.type, input: spec("input"), output: spec("output") };
}

function providerSource(
  provider: {
    provider_ref?: string | undefined;
    provider_path?: string | undefined;
    provider?: string | undefined;
  },
  folder: string,
): ProviderSource {
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

function unknownKeyMessage(message: string, path: ValuePath, report: ProblemReport): string {
  const kind = report.isBlock(path) ? "block" : "attribute";
  return `unknown ${kind} ${message.replace(" is not allowed here", "")}`;
}

/** Converts a provider block's values; `config` may be a block or an object attribute. */
function normaliseProvider(
  provider: unknown,
  path: ValuePath,
  context: ValueContext,
  report: ProblemReport,
): unknown {
  if (typeof provider !== "object" || provider === null || Array.isArray(provider)) return provider;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(provider)) {
    const keyPath = [...path, key];
    if (key === "config") {
      // hcl2json writes blocks as lists: only a block's list is unwrapped, `config = [...]` is not.
      if (report.isAttribute(keyPath) && Array.isArray(value)) {
        setOwn(out, key, value);
        continue;
      }
      const config = singleBlock(value, keyPath, report);
      setOwn(out, key, config === undefined ? {} : convertValue(config, keyPath, context));
    } else if (typeof value === "string") {
      setOwn(out, key, convertString(value, keyPath, context));
    } else {
      setOwn(out, key, value);
    }
  }
  return out;
}
