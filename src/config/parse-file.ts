// A config file's text to hcl2json's JSON, through the parse cache. Syntax errors become
// `file:line:col: summary` problems; hcl2json's label errors, which carry no position, get theirs
// from the outline.
import { DstreamError } from "../errors.ts";
import type { LabelConflict, Outline } from "../hcl/index.ts";
import { type HclDiagnostic, HclSyntaxError, parseHcl } from "../hcl/index.ts";
import { parseInGroups } from "./chunked-parse.ts";
import type { ConfigLocation } from "./discover.ts";
import { openParseCache } from "./parse-cache.ts";
import { ProblemReport } from "./problem-report.ts";
import { mislabelledTasks, reportMislabelledTasks, withoutBlocks } from "./task-labels.ts";

export interface ParseOptions {
  env?: Record<string, string | undefined>;
  /** Reuse the parse of an unchanged file from the cache folder. */
  cache?: boolean;
}

/** Syntax errors shown at most; past them the parser is usually reporting one mistake again. */
const MAX_SYNTAX_ERRORS = 10;

/**
 * hcl2json's JSON for `source`. Task blocks without exactly one name, which hcl2json refuses
 * beside named ones, are left out (checkConfig reports each from the outline) so that the rest of
 * the file is still checked.
 */
export async function parseSource(
  source: string,
  location: ConfigLocation,
  outline: Outline,
  options: ParseOptions,
): Promise<Record<string, unknown>> {
  if (looksBinary(source)) throw notText(location);
  const cache = options.cache ? openParseCache(options.env ?? process.env) : undefined;
  const cached = cache?.get(source);
  if (cached) return cached;
  let parsed: Record<string, unknown>;
  try {
    parsed = (await parseInGroups(source, outline, parsedOrUndefined)) ?? (await parseHcl(source));
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    const mislabelled = mislabelledTasks(outline);
    if (mislabelled.length === 0 || !isLabelClash(error.diagnostics)) {
      throw syntaxError(error.diagnostics, location, outline);
    }
    try {
      // Not cached: the file as written does not parse.
      return await parseHcl(withoutBlocks(source, mislabelled));
    } catch (retried) {
      if (!(retried instanceof HclSyntaxError)) throw retried;
      throw syntaxError(retried.diagnostics, location, outline);
    }
  }
  cache?.set(source, parsed);
  return parsed;
}

/** One group's parse for parseInGroups: a syntax error means "parse the file whole". */
async function parsedOrUndefined(text: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await parseHcl(text);
  } catch (error) {
    if (error instanceof HclSyntaxError) return undefined;
    throw error;
  }
}

/**
 * A config file's bytes as text. Bytes that are not UTF-8 would silently become U+FFFD: each
 * stretch of them is an error at its line and column instead (a binary file is one error).
 */
export function decodeConfigFile(bytes: Uint8Array, location: ConfigLocation): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.includes("\uFFFD")) return text;
  const invalid = invalidUtf8(bytes);
  if (invalid.length === 0) return text; // U+FFFD written as such
  if (looksBinary(text)) throw notText(location);
  const problems = invalid.slice(0, MAX_SYNTAX_ERRORS).map(({ offset, length }) => {
    const lineStart = bytes.lastIndexOf(10, offset - 1) + 1;
    const line = countByte(bytes, 10, offset) + 1;
    const column = [...Buffer.from(bytes.subarray(lineStart, offset)).toString("utf8")].length + 1;
    const shown = [...bytes.subarray(offset, offset + Math.min(length, 4))]
      .map((byte) => `0x${byte.toString(16).padStart(2, "0")}`)
      .join(" ");
    return `${location.display}:${line}:${column}: invalid UTF-8 (${shown}${length > 4 ? " ..." : ""}): save the file as UTF-8`;
  });
  const more = invalid.length - MAX_SYNTAX_ERRORS;
  if (more > 0)
    problems.push(`${location.display}: ... and ${more} more stretches of invalid UTF-8`);
  return throwProblems(problems);
}

function throwProblems(problems: string[]): never {
  throw new DstreamError("CONFIG_SYNTAX", problems[0] ?? "invalid UTF-8", { problems });
}

function countByte(bytes: Uint8Array, byte: number, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(byte); at !== -1 && at < end; at = bytes.indexOf(byte, at + 1))
    count++;
  return count;
}

/** Where UTF-8 is broken: runs of bytes that start no valid sequence, as offset and length. */
function invalidUtf8(bytes: Uint8Array): { offset: number; length: number }[] {
  const runs: { offset: number; length: number }[] = [];
  let index = 0;
  while (index < bytes.length) {
    const size = sequenceLength(bytes, index);
    if (size > 0) {
      index += size;
      continue;
    }
    const last = runs.at(-1);
    if (last && last.offset + last.length === index) last.length++;
    else runs.push({ offset: index, length: 1 });
    index++;
  }
  return runs;
}

/** The length of the valid UTF-8 sequence at `index`, or 0 (RFC 3629: no overlongs, surrogates). */
function sequenceLength(bytes: Uint8Array, index: number): number {
  const first = bytes[index] ?? 0;
  if (first < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[index + at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (first >= 0xc2 && first <= 0xdf) return continuation(1) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    const [low, high] =
      first === 0xe0 ? [0xa0, 0xbf] : first === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const [low, high] =
      first === 0xf0 ? [0x90, 0xbf] : first === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

function notText(location: ConfigLocation): DstreamError {
  return new DstreamError(
    "CONFIG_SYNTAX",
    `${location.display}: not a text file (NUL bytes or invalid UTF-8): is this the right file?`,
  );
}

/**
 * A binary file would get one error per byte: it is told apart by its share of NUL bytes and
 * invalid UTF-8 (decoded as U+FFFD). Text in another encoding (Latin-1 accents) has no NULs and
 * fewer bad bytes: each gets its position, as does a stray NUL in a text file.
 */
function looksBinary(source: string): boolean {
  let nul = 0;
  let replaced = 0;
  for (let index = 0; index < source.length; index++) {
    const code = source.charCodeAt(index);
    if (code === 0) nul++;
    else if (code === 0xfffd) replaced++;
  }
  const odd = nul + replaced;
  return odd >= 4 && (nul > 0 ? odd * 100 >= source.length : odd * 10 >= source.length);
}

/** hcl2json's two ways of refusing blocks of one type whose labels extend each other's. */
const labelClash =
  /^invalid HCL detected for ".*" block, cannot have blocks with and without labels$|^Unable to convert Block to JSON: /;

const isLabelClash = (diagnostics: HclDiagnostic[]) =>
  diagnostics.some((d) => d.line === 0 && labelClash.test(d.summary));

function syntaxError(
  diagnostics: HclDiagnostic[],
  location: ConfigLocation,
  outline: Outline,
): DstreamError {
  // Nested conflicts (task names are reported from the outline, each at its own block).
  const conflicts = outline.labelConflicts.filter((conflict) => conflict.path.join() !== "task");
  if (isLabelClash(diagnostics) && conflicts.length > 0) {
    const report = new ProblemReport(location.display, outline);
    for (const conflict of conflicts) reportConflict(conflict, report);
    reportMislabelledTasks(outline, report);
    return report.error("CONFIG_SYNTAX");
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
  const written = (labels: string[]) =>
    [type, ...labels.map((label) => JSON.stringify(label)), "{ }"].join(" ");
  report.add(
    path,
    `${written(other.labels)} cannot stand beside ${written(first.labels)} (line ${first.position.line}): give every ${type} block here the same number of labels`,
    { at: other.position },
  );
}
