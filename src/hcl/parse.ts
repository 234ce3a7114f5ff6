// HCL parsing with HashiCorp's parser (go-parser.ts), and its diagnostics as line, column and
// summary: the one HCL front for dstream.hcl (config/) and dstream.lock.hcl (registry/).
import { DstreamError, messageOf } from "../errors.ts";
import { callGoParser, GoParserError } from "./go-parser.ts";

/** Name handed to the parser so its diagnostics can be told apart from their message text. */
const SOURCE_NAME = "DSTREAM_SOURCE";

/** One HCL diagnostic; line 0 when the parser gave no position. */
export interface HclDiagnostic {
  line: number;
  column: number;
  summary: string;
  detail: string;
}

/** Thrown by parseHcl for syntax errors; the loader formats them with the file's display path. */
export class HclSyntaxError extends Error {
  constructor(readonly diagnostics: HclDiagnostic[]) {
    super(diagnostics.map((d) => `${d.line}:${d.column}: ${d.summary}`).join("\n"));
  }
}

/**
 * Go's recursive descent overflows the stack somewhere between one and several thousand levels,
 * depending on how warm the wasm is; far below that, a file is refused up front, the same way
 * every time. No real config comes near it.
 */
const MAX_NESTING = 500;

/** Where brackets first nest deeper than MAX_NESTING. Counting ignores strings: close enough. */
function excessiveNesting(source: string): HclDiagnostic | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < source.length; index++) {
    const char = source[index];
    if (char === "\n") {
      line++;
      lineStart = index + 1;
    } else if (char === "{" || char === "[" || char === "(") {
      if (++depth > MAX_NESTING) {
        const summary = `nested deeper than ${MAX_NESTING} levels`;
        return { line, column: index - lineStart + 1, summary, detail: "" };
      }
    } else if (char === "}" || char === "]" || char === ")") {
      depth--;
    }
  }
  return undefined;
}

/** Parses HCL source into hcl2json's JSON form (blocks as arrays, expressions as "${...}"). */
export async function parseHcl(source: string): Promise<Record<string, unknown>> {
  const tooDeep = excessiveNesting(source);
  if (tooDeep) throw new HclSyntaxError([tooDeep]);
  let result: Awaited<ReturnType<typeof callGoParser>>;
  try {
    result = await callGoParser(SOURCE_NAME, source);
  } catch (error) {
    if (error instanceof RangeError) {
      // Nesting that the count above missed (closing brackets inside strings).
      throw new HclSyntaxError([
        { line: 0, column: 0, summary: "nested too deeply for the HCL parser", detail: "" },
      ]);
    }
    const reason = error instanceof GoParserError ? error.message : messageOf(error);
    throw new DstreamError("INTERNAL", reason, { cause: error });
  }
  if ("error" in result) throw new HclSyntaxError(parseDiagnostics(result.error));
  return JSON.parse(result.json) as Record<string, unknown>;
}

const diagnosticStart = new RegExp(`${SOURCE_NAME}:(\\d+),(\\d+)-(?:\\d+,)?\\d+: `, "g");
const sourceReference = new RegExp(`${SOURCE_NAME}:(\\d+),(\\d+)-(?:\\d+,)?\\d+`, "g");

/** Splits "parse config: [F:1,5-6: Summary; Detail F:2,1-3: ...]" into diagnostics. */
export function parseDiagnostics(message: string): HclDiagnostic[] {
  const text = message
    .replace(/^parse config: \[/, "")
    .replace(/\]$/, "")
    // hcl2json's own errors carry the chain of its converter steps: noise to a user.
    .replace(/^convert to HCL: (?:convert [a-z]+: )*/, "");
  const starts = [...text.matchAll(diagnosticStart)];
  if (starts.length === 0) {
    return [{ line: 0, column: 0, summary: text.trim() || "invalid HCL", detail: "" }];
  }
  return starts.map((match, index) => {
    const bodyStart = (match.index ?? 0) + match[0].length;
    const bodyEnd = starts[index + 1]?.index ?? text.length;
    const body = text.slice(bodyStart, bodyEnd).trim();
    const split = body.indexOf("; ");
    const summary = split === -1 ? body : body.slice(0, split);
    const detail = split === -1 ? "" : body.slice(split + 2);
    return {
      line: Number(match[1]),
      column: Number(match[2]),
      summary: summary.replace(/\.$/, ""),
      detail: detail.replace(sourceReference, "line $1, column $2"),
    };
  });
}
