// Builds @dstream/sdk from src/sdk and packs it with npm: bun scripts/sdk/pack.ts [--outdir dist/sdk]
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PROTOCOL_VERSION } from "../../src/protocol/index.ts";

const repoRoot = resolve(import.meta.dir, "../..");
const sdkSource = join(repoRoot, "src/sdk");
/** Emits declarations for src/sdk/index.ts and what it imports, with the root's compiler options. */
const typesConfig = join(import.meta.dir, "tsconfig.types.json");
/** The public API's declarations, relative to tsc's rootDir (src/). */
const typesEntry = "sdk/index.d.ts";

interface SdkManifest {
  name: string;
  private?: boolean;
  version: string;
  main: string;
  types: string;
  exports: Record<string, Record<string, string>>;
  peerDependencies: Record<string, string>;
}

export interface PackedSdk {
  /** The package as npm packed it: package.json, README.md, index.js, types/. */
  packageDir: string;
  tarball: string;
  /** Paths inside the tarball, sorted. */
  files: string[];
}

/** src/sdk/package.json, whose major version must be the protocol version the SDK speaks. */
function readSdkManifest(): SdkManifest {
  const manifest: SdkManifest = JSON.parse(readFileSync(join(sdkSource, "package.json"), "utf8"));
  const major = Number(manifest.version.split(".")[0]);
  if (major !== PROTOCOL_VERSION) {
    throw new Error(
      `src/sdk/package.json: version ${manifest.version} must start with ${PROTOCOL_VERSION}., the protocol version the SDK speaks (PROTOCOL_VERSION in src/protocol/checkpoint.ts)`,
    );
  }
  return manifest;
}

/** One ESM file for Bun with src/protocol and src/os inside; peer dependencies stay imports. */
async function bundle(manifest: SdkManifest, packageDir: string): Promise<void> {
  const external = Object.keys(manifest.peerDependencies).filter(
    (name) => !name.startsWith("@types/"),
  );
  const result = await Bun.build({
    entrypoints: [join(sdkSource, "index.ts")],
    outdir: packageDir,
    naming: "index.js",
    target: "bun",
    format: "esm",
    external,
    banner: `// ${manifest.name} ${manifest.version}: speaks dstream provider protocol v${PROTOCOL_VERSION}. Built from src/sdk of https://github.com/dstream-dev/dstream.`,
    throw: false,
  });
  if (!result.success) {
    throw new Error(`bun build of src/sdk failed:\n${result.logs.join("\n")}`);
  }
}

/** Relative module specifiers in emitted declarations: `from "./batch.ts"`, `import("../x.ts")`. */
const relativeSpecifier = /(from\s+|import\()"(\.{1,2}\/[^"]+)"/g;

/**
 * Copies the declarations the entry reaches (not the SDK's internals) and rewrites their `.ts`
 * specifiers to `.js`, which a consumer's TypeScript resolves in every module mode.
 */
function copyDeclarations(from: string, to: string): void {
  const pending = [typesEntry];
  const copied = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (copied.has(file)) continue;
    copied.add(file);
    const text = readFileSync(join(from, file), "utf8");
    const rewritten = text.replace(relativeSpecifier, (_, prefix: string, specifier: string) => {
      if (!specifier.endsWith(".ts")) {
        throw new Error(`${file}: "${specifier}" does not name a .ts file`);
      }
      pending.push(join(dirname(file), specifier.replace(/\.ts$/, ".d.ts")));
      return `${prefix}"${specifier.replace(/\.ts$/, ".js")}"`;
    });
    mkdirSync(dirname(join(to, file)), { recursive: true });
    writeFileSync(join(to, file), rewritten);
  }
}

/** Runs the repository's tsc into a scratch folder, then keeps the public declarations. */
function emitTypes(packageDir: string, scratch: string): void {
  rmSync(scratch, { recursive: true, force: true });
  const tsc = Bun.spawnSync(
    [join(repoRoot, "node_modules/.bin/tsc"), "-p", typesConfig, "--outDir", scratch],
    { cwd: repoRoot, stdout: "pipe", stderr: "pipe" },
  );
  if (tsc.exitCode !== 0) {
    throw new Error(`tsc could not emit the SDK's declarations:\n${tsc.stdout}${tsc.stderr}`);
  }
  try {
    copyDeclarations(scratch, join(packageDir, "types"));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface NpmPackResult {
  filename: string;
  files: { path: string }[];
}

function npmPack(packageDir: string, outdir: string): { tarball: string; files: string[] } {
  const pack = Bun.spawnSync(
    ["npm", "pack", "--json", "--pack-destination", outdir, "--no-update-notifier"],
    { cwd: packageDir, stdout: "pipe", stderr: "pipe" },
  );
  if (pack.exitCode !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const [result]: NpmPackResult[] = JSON.parse(pack.stdout.toString());
  if (!result) throw new Error(`npm pack reported no package:\n${pack.stdout}`);
  return {
    tarball: join(outdir, result.filename),
    files: result.files.map((file) => file.path).sort(),
  };
}

/** Every file the manifest points an importer at must be in the tarball. */
function checkEntryPoints(manifest: SdkManifest, files: string[]): void {
  const targets = [
    manifest.main,
    manifest.types,
    ...Object.values(manifest.exports).flatMap((conditions) => Object.values(conditions)),
  ].map((path) => path.replace(/^\.\//, ""));
  const missing = [...new Set(targets)].filter((path) => !files.includes(path));
  if (missing.length > 0) {
    throw new Error(`the packed ${manifest.name} lacks ${missing.join(", ")}`);
  }
}

/** Builds the package into `outdir`/package and packs it into `outdir`. */
export async function packSdk(outdir: string): Promise<PackedSdk> {
  const manifest = readSdkManifest();
  const packageDir = join(outdir, "package");
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  await bundle(manifest, packageDir);
  emitTypes(packageDir, join(outdir, "types-emit"));
  // The source manifest is private, so npm refuses to publish src/sdk itself (it lacks the build);
  // the built package's manifest drops that flag.
  const { private: _, ...published } = manifest;
  writeFileSync(join(packageDir, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
  cpSync(join(sdkSource, "README.md"), join(packageDir, "README.md"));
  const { tarball, files } = npmPack(packageDir, outdir);
  checkEntryPoints(manifest, files);
  return { packageDir, tarball, files };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { outdir: { type: "string", default: join(repoRoot, "dist/sdk") } },
  });
  const packed = await packSdk(resolve(values.outdir));
  process.stderr.write(`packed ${packed.files.length} files\n`);
  process.stdout.write(`${packed.tarball}\n`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
