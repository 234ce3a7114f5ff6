// Compiles dstream into single executables: dist/dstream for this machine, or every release platform.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";
import { platformNamed, type ReleasePlatform, releasePlatforms } from "./platforms.ts";

/** Extra entrypoints loaded at run time (workers); without them the binary lacks these files. */
export const workerEntrypoints: string[] = [
  "src/relay/worker.ts",
  "src/registry/store/blob-writer-worker.ts",
];

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

/**
 * @platformatic/kafka's wasm helpers (crc32c, snappy, lz4) read native.wasm from beside their own
 * file at load, which a compiled binary lacks; their `bundled` entry carries the same wasm inline.
 */
const inlineKafkaWasm: BunPlugin = {
  name: "inline-kafka-wasm",
  setup(build) {
    build.onResolve({ filter: /^@platformatic\/wasm-utils$/ }, () => ({
      path: Bun.resolveSync(
        "@platformatic/wasm-utils/bundled",
        resolve(import.meta.dir, "../node_modules/@platformatic/kafka"),
      ),
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
  /** Precompile to JSC bytecode (faster start-up); on by default. */
  bytecode?: boolean;
}

export class CompileError extends Error {}

export async function compile(options: BuildOptions): Promise<void> {
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts", ...workerEntrypoints],
    compile: { outfile: options.outfile, ...(options.target ? { target: options.target } : {}) },
    minify: true,
    bytecode: options.bytecode ?? true,
    // Bytecode needs ESM output.
    format: "esm",
    define: { __DSTREAM_COMMIT__: JSON.stringify(gitCommit()) },
    plugins: [rawWasm, inlineKafkaWasm],
    throw: false,
  });
  if (!result.success) {
    const logs = result.logs.map((log) => String(log)).join("\n");
    throw new CompileError(`bun build failed for ${options.target ?? "this machine"}: ${logs}`);
  }
}

export interface BuiltBinary {
  platform: ReleasePlatform;
  path: string;
  bytecode: boolean;
}

/**
 * Builds one release binary with bytecode, falling back to plain minified JS when only bytecode
 * fails for that target (the binary still works, it only parses its code at start-up).
 */
export async function compileRelease(
  platform: ReleasePlatform,
  outdir: string,
): Promise<BuiltBinary> {
  const path = join(outdir, platform.binaryName);
  try {
    await compile({ target: platform.bunTarget, outfile: path, bytecode: true });
    return { platform, path, bytecode: true };
  } catch (bytecodeError) {
    if (!(bytecodeError instanceof CompileError)) throw bytecodeError;
    // A build that fails without bytecode too is broken for another reason: that error is thrown.
    await compile({ target: platform.bunTarget, outfile: path, bytecode: false });
    process.stderr.write(
      `${platform.name}: Bun refused bytecode, built without it: ${bytecodeError.message}\n`,
    );
    return { platform, path, bytecode: false };
  }
}

export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Writes SHA256SUMS in the format `sha256sum -c` reads: `<hex>  <file name>` per line. */
export async function writeChecksums(outdir: string, paths: string[]): Promise<string> {
  const lines: string[] = [];
  for (const path of paths) lines.push(`${await sha256File(path)}  ${basename(path)}`);
  const checksumsPath = join(outdir, "SHA256SUMS");
  writeFileSync(checksumsPath, `${lines.join("\n")}\n`);
  return checksumsPath;
}

/** Builds the given platforms (all by default) into outdir and writes outdir/SHA256SUMS. */
export async function buildAll(
  outdir: string,
  platforms: readonly ReleasePlatform[] = releasePlatforms,
): Promise<BuiltBinary[]> {
  mkdirSync(outdir, { recursive: true });
  const built: BuiltBinary[] = [];
  for (const platform of platforms) {
    const started = performance.now();
    const binary = await compileRelease(platform, outdir);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const mode = binary.bytecode ? "minify + bytecode" : "minify, no bytecode";
    process.stderr.write(`built ${binary.path} (${mode}) in ${seconds} s\n`);
    built.push(binary);
  }
  await writeChecksums(
    outdir,
    built.map((binary) => binary.path),
  );
  return built;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      all: { type: "boolean", default: false },
      only: { type: "string" },
      outdir: { type: "string", default: "dist" },
    },
  });
  const outdir = resolve(values.outdir);
  process.chdir(join(import.meta.dir, "..")); // entry points are named from the repository root
  if (values.all || values.only) {
    const platforms = values.only ? values.only.split(",").map(platformNamed) : releasePlatforms;
    await buildAll(outdir, platforms);
    process.stderr.write(`wrote ${join(outdir, "SHA256SUMS")}\n`);
    return;
  }
  mkdirSync(outdir, { recursive: true });
  const started = performance.now();
  const outfile = join(outdir, "dstream");
  await compile({ outfile });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`built ${outfile} in ${seconds} s\n`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
