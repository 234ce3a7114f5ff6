// The top-level `state { }` block: where a task's committed checkpoints live (DESIGN.md "State").
import { isAbsolute, join, resolve } from "node:path";
import * as v from "valibot";
import type { ProblemReport } from "./problem-report.ts";
import {
  convertValue,
  type JsonValue,
  renderString,
  setOwn,
  type ValueContext,
  type ValueProblem,
} from "./values.ts";

/** Where checkpoints are kept; the file backend is the default. */
export type StateSettings =
  | { backend: "file"; path: string }
  | {
      backend: "postgres";
      connectionString: string;
      schema: string;
      table: string;
      /**
       * Why connection_string could not be rendered (an unset env var): reported when the store is
       * opened, so that commands which never touch the state (list, validate) need no secret.
       */
      connectionProblem?: string;
    };

/** The folder beside the config file that holds its tasks' state by default. */
export const DEFAULT_STATE_FOLDER = ".dstream";
export const DEFAULT_STATE_SCHEMA = "public";
export const DEFAULT_STATE_TABLE = "dstream_state";

const ATTRIBUTES = "backend, path, connection_string, schema, table";

/** A lowercase SQL name, quoted anyway; `max` leaves room for the `_locks` table beside it. */
const sqlName = (key: string, max: number) =>
  v.pipe(
    v.string(`${key} must be a string`),
    v.regex(
      new RegExp(`^[a-z_][a-z0-9_]{0,${max - 1}}$`),
      `${key} must be a lowercase SQL name: a-z, 0-9 and _, not starting with a digit, at most ${max} characters`,
    ),
  );

const stateSchema = v.strictObject(
  {
    backend: v.optional(
      v.picklist(["file", "postgres"], 'backend must be "file" or "postgres"'),
      "file",
    ),
    /** The state folder, relative to the config file's folder (file backend). */
    path: v.optional(v.pipe(v.string("path must be a string"), v.nonEmpty("path is empty"))),
    /** A postgres:// URL (postgres backend); never echoed, it may hold a password. */
    connection_string: v.optional(v.string("connection_string must be a string")),
    schema: v.optional(sqlName("schema", 63)),
    /** The checkpoints table; run owners go in `<table>_locks`. */
    table: v.optional(sqlName("table", 57)),
  },
  (issue) =>
    issue.expected === "never"
      ? `unknown attribute ${JSON.stringify(issue.path?.[0]?.key)} (allowed: ${ATTRIBUTES})`
      : "state must be a block",
);

function isPostgresUrl(text: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

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
  const { body, connectionRendered, connectionProblem } = convertBlock(blocks[0], context);
  const result = v.safeParse(stateSchema, body);
  if (!result.success) {
    for (const issue of result.issues) {
      const key = issue.path?.[0]?.key;
      report.add(typeof key === "string" ? ["state", key] : ["state"], issue.message);
    }
    return fallback;
  }
  const { backend, path, connection_string, schema, table } = result.output;
  const misplaced = (key: string, owner: string) =>
    report.add(["state", key], `${key} is only for backend = "${owner}"`);
  if (backend === "file") {
    if (connection_string !== undefined) misplaced("connection_string", "postgres");
    if (schema !== undefined) misplaced("schema", "postgres");
    if (table !== undefined) misplaced("table", "postgres");
    const chosen = path ?? DEFAULT_STATE_FOLDER;
    return { backend: "file", path: isAbsolute(chosen) ? chosen : join(folder, chosen) };
  }
  if (path !== undefined) misplaced("path", "file");
  if (connection_string === undefined) {
    report.add(["state"], 'backend = "postgres" needs connection_string (a postgres:// URL)');
    return fallback;
  }
  // Checked once rendered; never echoed, as it may hold a password.
  if (connectionRendered && !isPostgresUrl(connection_string)) {
    report.add(
      ["state", "connection_string"],
      "connection_string must be a postgres:// or postgresql:// URL",
    );
  }
  return {
    backend: "postgres",
    connectionString: connection_string,
    schema: schema ?? DEFAULT_STATE_SCHEMA,
    table: table ?? DEFAULT_STATE_TABLE,
    ...(connectionProblem ? { connectionProblem } : {}),
  };
}

interface ConvertedBlock {
  body: JsonValue;
  /** connection_string is final: no template left (else it was reported, or is deferred). */
  connectionRendered: boolean;
  connectionProblem?: string;
}

/**
 * Renders the block; connection_string leniently: an unset env var leaves it as written and is
 * returned as `connectionProblem` (a template that is wrong otherwise is reported as usual).
 */
function convertBlock(block: unknown, context: ValueContext): ConvertedBlock {
  const strict: ValueContext = { ...context, templates: "strict" };
  if (!isRecord(block) || typeof block.connection_string !== "string") {
    return { body: convertValue(block, ["state"], strict), connectionRendered: true };
  }
  const { connection_string: connection, ...rest } = block;
  const body = convertValue(rest, ["state"], strict) as Record<string, JsonValue>;
  const path = ["state", "connection_string"];
  const reported = context.problems.length;
  const lenient = renderString(connection, path, { ...context, templates: "lenient" });
  setOwn(body, "connection_string", lenient.text);
  if (lenient.rendered || context.problems.length > reported) {
    return { body, connectionRendered: lenient.rendered };
  }
  const unset: ValueProblem[] = [];
  renderString(connection, path, { ...strict, problems: unset });
  const first = unset[0];
  return {
    body,
    connectionRendered: false,
    ...(first ? { connectionProblem: `state › connection_string: ${first.message}` } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
