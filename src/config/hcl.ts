// HashiCorp's HCL parser (Go, compiled to wasm by @cdktn/hcl2json), loaded from bytes embedded in
// the binary: the package's own loader reads a build-time path and hangs on other machines.
import "@cdktn/hcl2json/wasm/wasm_exec.js";
import wasmPath from "@cdktn/hcl2json/main.wasm.gz" with { type: "file" };
import { DstreamError, messageOf } from "../errors.ts";

type Callback = (error: string | null, result?: string) => void;
interface GoBridge {
  parse(fileName: string, source: string, callback: Callback): void;
}
interface GoRuntime {
  importObject: Parameters<typeof WebAssembly.instantiate>[1];
  run(instance: WebAssembly.Instance): Promise<void>;
  exited: boolean;
}

/** Name handed to the parser so its diagnostics can be told apart from their message text. */
const SOURCE_NAME = "DSTREAM_SOURCE";
const PARSE_TIMEOUT_MS = 10_000;

let bridge: Promise<{ go: GoRuntime; api: GoBridge }> | undefined;

function loadBridge(): Promise<{ go: GoRuntime; api: GoBridge }> {
  bridge ??= (async () => {
    const bytes = await Bun.file(wasmPath).bytes();
    // The compiled binary embeds it already unpacked (scripts/build.ts); from source it is gzip.
    const wasm = bytes[0] === 0x1f && bytes[1] === 0x8b ? Bun.gunzipSync(bytes) : bytes;
    const GoConstructor = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
    const go = new GoConstructor();
    const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
    const api = {} as GoBridge;
    (globalThis as Record<string, unknown>).__parse_terraform_config_wasm__ = api;
    void go.run(instance);
    return { go, api };
  })();
  return bridge;
}

/** One HCL diagnostic, positioned in the file as the user named it. */
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

/** Parses HCL source into hcl2json's JSON form (blocks as arrays, expressions as "${...}"). */
export async function parseHcl(source: string): Promise<Record<string, unknown>> {
  let loaded: { go: GoRuntime; api: GoBridge };
  try {
    loaded = await loadBridge();
  } catch (error) {
    throw new DstreamError("INTERNAL", `could not load the HCL parser: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (loaded.go.exited) {
    throw new DstreamError("INTERNAL", "the HCL parser stopped unexpectedly");
  }
  const json = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new DstreamError("INTERNAL", "the HCL parser took too long (over 10 s)")),
      PARSE_TIMEOUT_MS,
    );
    loaded.api.parse(SOURCE_NAME, source, (error, result) => {
      clearTimeout(timer);
      if (error) reject(new HclSyntaxError(parseDiagnostics(error)));
      else resolve(result ?? "{}");
    });
  });
  return JSON.parse(json) as Record<string, unknown>;
}

const diagnosticStart = new RegExp(`${SOURCE_NAME}:(\\d+),(\\d+)-(?:\\d+,)?\\d+: `, "g");
const sourceReference = new RegExp(`${SOURCE_NAME}:(\\d+),(\\d+)-(?:\\d+,)?\\d+`, "g");

/** Splits "parse config: [F:1,5-6: Summary; Detail F:2,1-3: ...]" into diagnostics. */
export function parseDiagnostics(message: string): HclDiagnostic[] {
  const text = message.replace(/^parse config: \[/, "").replace(/\]$/, "");
  const starts = [...text.matchAll(diagnosticStart)];
  if (starts.length === 0) {
    return [{ line: 1, column: 1, summary: text.trim() || "invalid HCL", detail: "" }];
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
