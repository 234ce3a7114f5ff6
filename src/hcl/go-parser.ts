// Runs hcl2json's Go program (wasm, embedded in the binary) and calls its parse function; a Go
// runtime that crashed or overflowed its stack is discarded and a fresh one started next time.
import "@cdktn/hcl2json/wasm/wasm_exec.js";
import wasmPath from "@cdktn/hcl2json/main.wasm.gz" with { type: "file" };

type Callback = (error: string | null, result?: string) => void;
interface ParseFunction {
  parse(fileName: string, source: string, callback: Callback): void;
}
/** The parts of wasm_exec.js's Go class used here. */
interface GoRuntime {
  importObject: Parameters<typeof WebAssembly.instantiate>[1];
  run(instance: WebAssembly.Instance): Promise<void>;
  exited: boolean;
  exit: (code: number) => void;
  _scheduledTimeouts: Map<number, ReturnType<typeof setTimeout>>;
}
interface Running {
  go: GoRuntime;
  api: ParseFunction;
}

/** The outcome of one parse: hcl2json's error text, or its JSON. */
export type GoParseResult = { error: string } | { json: string };

/** Thrown when the Go program cannot answer; the message says why in one line. */
export class GoParserError extends Error {}

const PARSE_TIMEOUT_MS = 10_000;
const decoder = new TextDecoder();
/** The end of what the Go program printed (its runtime writes crashes there). */
let goOutput = "";
// wasm_exec.js sends Go's output to console.log, which is dstream's stdout: keep it here instead.
// A copy of its fs shim, not a change to it: the shim could be a shared object.
const goGlobals = globalThis as unknown as { fs: object };
goGlobals.fs = {
  ...goGlobals.fs,
  writeSync(_fd: number, bytes: Uint8Array): number {
    goOutput = (goOutput + decoder.decode(bytes)).slice(-2000);
    return bytes.length;
  },
};

let compiled: Promise<WebAssembly.Module> | undefined;
let running: Promise<Running> | undefined;

async function start(): Promise<Running> {
  compiled ??= (async () => {
    const bytes = await Bun.file(wasmPath).bytes();
    // The compiled binary embeds it already unpacked (scripts/build.ts); from source it is gzip.
    const wasm = bytes[0] === 0x1f && bytes[1] === 0x8b ? Bun.gunzipSync(bytes) : bytes;
    return WebAssembly.compile(wasm);
  })();
  const module = await compiled;
  const GoConstructor = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
  const go = new GoConstructor();
  go.exit = () => {
    // wasm_exec.js would print the code; `exited` is checked before every call instead.
  };
  // The Go runtime's own timers (its GC, its scavenger) must not keep dstream alive once the
  // command is done: a pending parse is held open by its own timeout below.
  const imports = (go.importObject as { gojs: Record<string, (sp: number) => void> }).gojs;
  const schedule = imports["runtime.scheduleTimeoutEvent"];
  if (schedule) {
    imports["runtime.scheduleTimeoutEvent"] = (sp: number) => {
      schedule(sp);
      for (const timer of go._scheduledTimeouts.values()) timer.unref();
    };
  }
  const instance = await WebAssembly.instantiate(module, go.importObject);
  const api = {} as ParseFunction;
  // The Go program registers its parse function on this global when it starts.
  (globalThis as Record<string, unknown>).__parse_terraform_config_wasm__ = api;
  goOutput = "";
  void go.run(instance);
  return { go, api };
}

/** Stops a broken runtime for good: its pending timers would resume it into a crash. */
function discard(go: GoRuntime): void {
  for (const timer of go._scheduledTimeouts.values()) clearTimeout(timer);
  go._scheduledTimeouts.clear();
  go.exited = true;
  running = undefined;
}

function crashReason(): string {
  const firstLine = goOutput.trim().split("\n")[0];
  return firstLine ? `: ${firstLine}` : "";
}

/** Parses `source` with hcl2json; rejects with GoParserError or RangeError (nested too deeply). */
export async function callGoParser(fileName: string, source: string): Promise<GoParseResult> {
  running ??= start();
  let current = await running;
  if (current.go.exited) {
    discard(current.go);
    running = start();
    current = await running;
  }
  const { go, api } = current;
  return new Promise<GoParseResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      discard(go);
      reject(new GoParserError(`the HCL parser took too long (over ${PARSE_TIMEOUT_MS / 1000} s)`));
    }, PARSE_TIMEOUT_MS);
    try {
      api.parse(fileName, source, (error, result) => {
        clearTimeout(timer);
        resolve(error ? { error } : { json: result ?? "{}" });
      });
    } catch (error) {
      clearTimeout(timer);
      discard(go);
      reject(error);
      return;
    }
    if (go.exited) {
      clearTimeout(timer);
      discard(go);
      reject(new GoParserError(`the HCL parser stopped unexpectedly${crashReason()}`));
    }
  });
}
