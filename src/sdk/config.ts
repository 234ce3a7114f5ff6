// Validates a provider's config with the author's valibot schema; problems become "<path>: <problem>".
import * as v from "valibot";
import type { ConfigSchema } from "./types.ts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** One problem per issue, joined with "; " so the whole report fits the one handshake line. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues.map((issue) => `${v.getDotPath(issue) ?? "config"}: ${issue.message}`).join("; ");
}

export function parseConfig<S extends ConfigSchema>(schema: S, config: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, config);
  if (!result.success) throw new ConfigError(describeIssues(result.issues));
  return result.output;
}

/**
 * A config object that rejects unknown keys by name, so a typo is an error rather than a silent
 * default; the message lists the allowed keys.
 */
export function configObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  const keys = Object.keys(entries);
  const unknown =
    keys.length === 0
      ? "unknown setting (this provider takes none)"
      : `unknown setting (allowed: ${keys.join(", ")})`;
  return v.strictObject(entries, (issue) => {
    if (issue.expected === "never") return unknown;
    if (issue.received === "undefined" && issue.expected?.startsWith('"')) return "is required";
    return `must be an object, got ${issue.received}`;
  });
}

/** A setting that must be a non-empty string. */
export const nonEmptyString = v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"));

/** A setting that must be a whole number of at least `minimum`. */
export const wholeNumberFrom = (minimum: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be a whole number"),
    v.minValue(minimum, `must be ${minimum} or more`),
  );
