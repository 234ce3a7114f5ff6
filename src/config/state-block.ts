// The top-level `state { }` block: where a task's committed checkpoints live (DESIGN.md "State").
import { isAbsolute, join, resolve } from "node:path";
import * as v from "valibot";
import type { ProblemReport } from "./problem-report.ts";
import { convertValue, type ValueContext } from "./values.ts";

/** Where checkpoints are kept; the file backend is the default. */
export type StateSettings = { backend: "file"; path: string };

/** The folder beside the config file that holds its tasks' state by default. */
export const DEFAULT_STATE_FOLDER = ".dstream";

const stateSchema = v.strictObject(
  {
    backend: v.optional(v.picklist(["file"], 'backend must be "file"'), "file"),
    /** The state folder, relative to the config file's folder. */
    path: v.optional(
      v.pipe(v.string("path must be a string"), v.nonEmpty("path is empty")),
      DEFAULT_STATE_FOLDER,
    ),
  },
  (issue) =>
    issue.expected === "never"
      ? `unknown attribute ${JSON.stringify(issue.path?.[0]?.key)} (allowed: backend, path)`
      : "state must be a block",
);

/** Checks `state { }` (at most one) and resolves its folder against the config file's folder. */
export function checkStateBlock(
  raw: unknown,
  configPath: string,
  context: ValueContext,
  report: ProblemReport,
): StateSettings {
  const folder = resolve(configPath, "..");
  const fallback: StateSettings = { backend: "file", path: join(folder, DEFAULT_STATE_FOLDER) };
  if (raw === undefined) return fallback;
  const blocks = Array.isArray(raw) ? raw : [raw];
  if (blocks.length > 1) {
    report.add(["state"], "only one state block is allowed", { occurrence: 1 });
  }
  const body = convertValue(blocks[0], ["state"], context);
  const result = v.safeParse(stateSchema, body);
  if (!result.success) {
    for (const issue of result.issues) {
      const key = issue.path?.[0]?.key;
      report.add(typeof key === "string" ? ["state", key] : ["state"], issue.message);
    }
    return fallback;
  }
  const { path } = result.output;
  return { backend: "file", path: isAbsolute(path) ? path : join(folder, path) };
}
