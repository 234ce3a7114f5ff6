// A config file's text to hcl2json's JSON, through the parse cache. Syntax errors become
// `file:line:col: summary` problems; hcl2json's label errors, which carry no position, get theirs
// from the outline.
import { DstreamError } from "../errors.ts";
import type { ConfigLocation } from "./discover.ts";
import { type HclDiagnostic, HclSyntaxError, parseHcl } from "./hcl.ts";
import { type LabelConflict, outlineHcl } from "./outline.ts";
import { openParseCache } from "./parse-cache.ts";
import { ProblemReport } from "./problem-report.ts";

export interface ParseOptions {
  env?: Record<string, string | undefined>;
  /** Reuse the parse of an unchanged file from the cache folder. */
  cache?: boolean;
}

/** Syntax errors shown at most; past them the parser is usually reporting one mistake again. */
const MAX_SYNTAX_ERRORS = 10;

export async function parseSource(
  source: string,
  location: ConfigLocation,
  options: ParseOptions,
): Promise<Record<string, unknown>> {
  if (looksBinary(source)) {
    throw new DstreamError(
      "CONFIG_SYNTAX",
      `${location.display}: not a text file (NUL bytes or invalid UTF-8): is this the right file?`,
    );
  }
  const cache = options.cache ? openParseCache(options.env ?? process.env) : undefined;
  const cached = cache?.get(source);
  if (cached) return cached;
  let parsed: Record<string, unknown>;
  try {
    parsed = await parseHcl(source);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    throw syntaxError(error.diagnostics, source, location);
  }
  cache?.set(source, parsed);
  return parsed;
}

/**
 * A binary file would get one "Invalid character" per byte: it is told apart by its share of NUL
 * bytes and invalid UTF-8 (decoded as U+FFFD). A stray one in a text file gets its position.
 */
function looksBinary(source: string): boolean {
  let odd = 0;
  for (let index = 0; index < source.length; index++) {
    const code = source.charCodeAt(index);
    if (code === 0 || code === 0xfffd) odd++;
  }
  return odd >= 4 && odd * 100 >= source.length;
}

/** hcl2json's two ways of refusing blocks of one type whose labels extend each other's. */
const labelClash =
  /^invalid HCL detected for ".*" block, cannot have blocks with and without labels$|^Unable to convert Block to JSON: /;

function syntaxError(
  diagnostics: HclDiagnostic[],
  source: string,
  location: ConfigLocation,
): DstreamError {
  if (diagnostics.some((d) => d.line === 0 && labelClash.test(d.summary))) {
    const outline = outlineHcl(source);
    if (outline.labelConflicts.length > 0) {
      const report = new ProblemReport(location.display, outline);
      for (const conflict of outline.labelConflicts) reportConflict(conflict, report);
      return report.error("CONFIG_SYNTAX");
    }
  }
  const problems = diagnostics
    .slice(0, MAX_SYNTAX_ERRORS)
    .map((d) =>
      d.line > 0
        ? `${location.display}:${d.line}:${d.column}: ${d.summary}`
        : `${location.display}: ${labelClash.test(d.summary) ? labelClashFallback : d.summary}`,
    );
  const more = diagnostics.length - MAX_SYNTAX_ERRORS;
  if (more > 0) problems.push(`${location.display}: ... and ${more} more syntax errors`);
  return new DstreamError("CONFIG_SYNTAX", problems[0] ?? "invalid HCL", { problems });
}

const labelClashFallback =
  'blocks of one type must not extend each other\'s labels, as b { } beside b "x" { } does';

function reportConflict({ path, first, other }: LabelConflict, report: ProblemReport): void {
  const type = path.at(-1) ?? "";
  if (path.length === 1 && type === "task") {
    // Point at the task block without exactly one name, as the schema would.
    const wrong = [first, other].find((header) => header.labels.length !== 1) ?? other;
    const needs = wrong.labels.length === 0 ? "needs one name" : "takes exactly one name";
    report.add(["task"], `a task block ${needs}: task "my-pipeline" { ... }`, {
      at: wrong.position,
    });
    return;
  }
  const written = (labels: string[]) =>
    [type, ...labels.map((label) => JSON.stringify(label)), "{ }"].join(" ");
  report.add(
    path,
    `${written(other.labels)} cannot stand beside ${written(first.labels)} (line ${first.position.line}): give every ${type} block here the same number of labels`,
    { at: other.position },
  );
}
