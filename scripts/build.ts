// Compiles dstream into one executable: dist/dstream for this machine.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BunPlugin } from "bun";

/** Extra entrypoints loaded at run time (workers); without them the binary lacks these files. */
export const workerEntrypoints: string[] = [];

/** Embeds the HCL parser's wasm uncompressed: saves ~16 ms of gunzip at every start. */
const rawWasm: BunPlugin = {
  name: "raw-wasm",
  setup(build) {
    build.onLoad({ filter: /\.wasm\.gz$/ }, async (args) => ({
      contents: Bun.gunzipSync(await Bun.file(args.path).bytes()),
      loader: "file",
    }));
  },
};

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stderr: "ignore" });
  return result.exitCode === 0 ? result.stdout.toString().trim() : "unknown";
}

export interface BuildOptions {
  /** Bun's compile target, e.g. bun-linux-arm64; omitted for this machine. */
  target?: Bun.Build.CompileTarget;
  outfile: string;
}

export async function compile(options: BuildOptions): Promise<void> {
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts", ...workerEntrypoints],
    compile: { outfile: options.outfile, ...(options.target ? { target: options.target } : {}) },
    minify: true,
    bytecode: true,
    format: "esm",
    define: { __DSTREAM_COMMIT__: JSON.stringify(gitCommit()) },
    plugins: [rawWasm],
  });
  if (!result.success) {
    for (const log of result.logs) process.stderr.write(`${log}\n`);
    throw new Error(`bun build failed for ${options.target ?? "this machine"}`);
  }
}

if (import.meta.main) {
  process.chdir(join(import.meta.dir, ".."));
  mkdirSync("dist", { recursive: true });
  const started = performance.now();
  await compile({ outfile: "dist/dstream" });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`built dist/dstream in ${seconds} s\n`);
}
