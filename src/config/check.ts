// Checks a parsed config: task blocks, their schema, values and templates; every problem at once.
import * as v from "valibot";
import { DstreamError } from "../errors.ts";
import { outlineHcl } from "../hcl/index.ts";
import type { ConfigLocation } from "./discover.ts";
import { type ParseOptions, parseSource } from "./parse-file.ts";
import { ProblemReport } from "./problem-report.ts";
import { droppedKeyIssues, type TaskInput, taskSchema, UNKNOWN_KEY } from "./schema.ts";
import { checkStateBlock, type StateSettings } from "./state-block.ts";
import { mislabelledTasks, reportMislabelledTasks } from "./task-labels.ts";
import {
  convertValue,
  EXPRESSION_MESSAGE,
  renderString,
  setOwn,
  type TemplateMode,
  type ValueContext,
  type ValuePath,
} from "./values.ts";

/**
 * How a task's templates are checked. strict: all must render (validate; the task run). lenient:
 * unset env vars leave config and provider_path templates as written, while provider_ref and
 * provider must still render (they name what to start). listing: unset env vars leave every
 * template as written (list). unchecked: templates are neither rendered nor checked (the tasks a
 * run does not start); syntax and schema are still checked.
 */
export type TaskPolicy = "strict" | "lenient" | "listing" | "unchecked";

export interface CheckOptions extends ParseOptions {
  now?: () => Date;
  /** The policy for each task, by name. */
  policyOf: (name: string) => TaskPolicy;
}

/** A task that passed every check; a provider attribute may still hold a template as written. */
export interface CheckedTask {
  name: string;
  fields: TaskInput;
}

function templateMode(policy: TaskPolicy, key: string): TemplateMode {
  switch (policy) {
    case "strict":
      return "strict";
    case "lenient":
      return key === "provider_ref" || key === "provider" ? "strict" : "lenient";
    case "listing":
      return "lenient";
    case "unchecked":
      return "skip";
  }
}

/** A config that passed every check: its tasks and where their state lives. */
export interface CheckedConfig {
  tasks: CheckedTask[];
  state: StateSettings;
  /** `file:line:col` of what `path` names (or of the nearest written block around it). */
  locate(path: ValuePath): string;
}

export async function checkConfig(
  source: string,
  location: ConfigLocation,
  options: CheckOptions,
): Promise<CheckedConfig> {
  // First: a large file is parsed in groups of blocks that the outline finds.
  const outline = outlineHcl(source);
  const raw = await parseSource(source, location, outline, options);
  const report = new ProblemReport(location.display, outline);
  const context: ValueContext = {
    env: options.env ?? process.env,
    now: options.now ?? (() => new Date()),
    outline,
    templates: "strict",
    problems: [],
  };
  for (const key of Object.keys(raw)) {
    if (key !== "task" && key !== "state") {
      const kind = report.isBlock([key]) ? "block" : "attribute";
      report.add(
        [key],
        `unknown ${kind} "${key}" (only task and state blocks are allowed at the top level)`,
      );
    }
  }
  const state = checkStateBlock(raw.state, location.path, context, report);
  const tasks: CheckedTask[] = [];
  // hcl2json sorts keys; tasks keep the order of the file.
  const byLine = (name: string) => report.positionOf(["task", name])?.line ?? 0;
  // Task blocks without exactly one name: each at its own line, from the outline.
  reportMislabelledTasks(outline, report);
  const labelsReported = mislabelledTasks(outline).length > 0;
  const entries = taskBodies(raw.task, report, labelsReported).sort(
    ([a], [b]) => byLine(a) - byLine(b),
  );
  for (const [name, bodies] of entries) {
    if (bodies.length > 1) {
      const first = report.positionOf(["task", name])?.line;
      report.add(
        ["task", name],
        "defined more than once",
        first ? { occurrence: 1, firstLine: first } : {},
      );
    }
    const task = checkTask(name, bodies[0], options.policyOf(name), context, report);
    if (task) tasks.push(task);
  }
  for (const { path, position } of outline.mixed) {
    const name = path.at(-1) ?? "";
    report.add(path, `"${name}" is set both as an attribute and as a block: keep one`, {
      at: position,
    });
  }
  for (const path of outline.interpolated) report.add(path, EXPRESSION_MESSAGE);
  for (const problem of context.problems) report.add(problem.path, problem.message);
  report.throwIfAny();
  if (tasks.length === 0) {
    throw new DstreamError("CONFIG_INVALID", `${location.display}: no task blocks found`);
  }
  return { tasks, state, locate: (path) => report.locate(path) };
}

/** The named task blocks; `labelsReported`: the others were reported already, from the outline. */
function taskBodies(
  value: unknown,
  report: ProblemReport,
  labelsReported: boolean,
): [string, unknown[]][] {
  if (value === undefined) return [];
  if (Array.isArray(value) || typeof value !== "object" || value === null) {
    if (!labelsReported) {
      report.add(["task"], 'a task block needs one name: task "my-pipeline" { ... }');
    }
    return [];
  }
  const entries: [string, unknown[]][] = [];
  for (const [name, bodies] of Object.entries(value)) {
    if (!Array.isArray(bodies)) {
      if (!labelsReported) {
        report.add(
          ["task", name],
          'a task block takes exactly one name: task "my-pipeline" { ... }',
        );
      }
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

function checkTask(
  name: string,
  body: unknown,
  policy: TaskPolicy,
  context: ValueContext,
  report: ProblemReport,
): CheckedTask | undefined {
  const taskPath = ["task", name];
  if (typeof body !== "object" || body === null) return undefined;
  const fields: Record<string, unknown> = { ...body };
  /** "role\0key" of provider attributes left as written: their value checks wait for rendering. */
  const unrendered = new Set<string>();
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
    fields[role] = normaliseProvider(
      provider,
      [...taskPath, role],
      policy,
      context,
      report,
      (key) => unrendered.add(`${role}\0${key}`),
    );
  }
  const result = v.safeParse(taskSchema, fields);
  const dropped = droppedKeyIssues(fields);
  for (const issue of dropped) {
    const issuePath = [...taskPath, ...issue.path];
    report.add(issuePath, unknownKeyMessage(issue.message, issuePath, report));
  }
  // A value left as written is checked once rendered (its template's own problem is reported).
  const issues = (result.issues ?? []).filter(
    (issue) => !unrendered.has((issue.path ?? []).map((item) => item.key).join("\0")),
  );
  for (const issue of issues) {
    const issuePath = [...taskPath, ...(issue.path ?? []).map((item) => item.key as string)];
    const message =
      issue.expected === UNKNOWN_KEY
        ? unknownKeyMessage(issue.message, issuePath, report)
        : issue.message;
    report.add(issuePath, message);
  }
  if (issues.length > 0 || dropped.length > 0) return undefined;
  // Complete with defaults even when only unrendered values had issues.
  return { name, fields: result.output as TaskInput };
}

function unknownKeyMessage(message: string, path: ValuePath, report: ProblemReport): string {
  const kind = report.isBlock(path) ? "block" : "attribute";
  return `unknown ${kind} ${message.replace(" is not allowed here", "")}`;
}

/** Converts a provider block's values; `config` may be a block or an object attribute. */
function normaliseProvider(
  provider: unknown,
  path: ValuePath,
  policy: TaskPolicy,
  context: ValueContext,
  report: ProblemReport,
  leftAsWritten: (key: string) => void,
): unknown {
  if (typeof provider !== "object" || provider === null || Array.isArray(provider)) return provider;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(provider)) {
    const keyPath = [...path, key];
    const values = { ...context, templates: templateMode(policy, key) };
    if (key === "config") {
      // hcl2json writes blocks as lists: only a block's list is unwrapped, `config = [...]` is not.
      if (report.isAttribute(keyPath) && Array.isArray(value)) {
        setOwn(out, key, value);
        continue;
      }
      const config = singleBlock(value, keyPath, report);
      setOwn(out, key, config === undefined ? {} : convertValue(config, keyPath, values));
    } else if (typeof value === "string") {
      const converted = renderString(value, keyPath, values);
      if (!converted.rendered) leftAsWritten(key);
      setOwn(out, key, converted.text);
    } else {
      setOwn(out, key, value);
    }
  }
  return out;
}
