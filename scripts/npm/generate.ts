// Generates the npm packages from dist/: `dstream` (launcher) and one binary package per platform.
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import packageJson from "../../package.json" with { type: "json" };
import { platformNamed, type ReleasePlatform, releasePlatforms } from "../platforms.ts";

const launcherSource = join(import.meta.dir, "../../npm/dstream");
const common = {
  version: packageJson.version,
  license: packageJson.license,
};

/** What the launcher needs from the platform table (written as platforms.json). */
function launcherTable(): object[] {
  return releasePlatforms.map((platform) => ({
    name: platform.name,
    os: platform.os,
    arch: platform.arch,
    ...(platform.libc ? { libc: platform.libc } : {}),
    npmPackage: platform.npmPackage,
    packagedBinaryName: platform.packagedBinaryName,
  }));
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the main package: the launcher, the platform table and one optional dependency per platform. */
export function writeMainPackage(outdir: string): string {
  const dir = join(outdir, "dstream");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(join(launcherSource, "bin/dstream.cjs"), join(dir, "bin/dstream.cjs"));
  chmodSync(join(dir, "bin/dstream.cjs"), 0o755);
  copyFileSync(join(launcherSource, "README.md"), join(dir, "README.md"));
  writeJson(join(dir, "platforms.json"), launcherTable());
  writeJson(join(dir, "package.json"), {
    name: "dstream",
    ...common,
    description: packageJson.description,
    bin: { dstream: "bin/dstream.cjs" },
    files: ["bin", "platforms.json"],
    engines: { node: ">=18" },
    optionalDependencies: Object.fromEntries(
      releasePlatforms.map((platform) => [platform.npmPackage, packageJson.version]),
    ),
  });
  return dir;
}

/** Writes one platform package around dist/<binaryName>; npm installs it only where os/cpu/libc fit. */
export function writePlatformPackage(
  platform: ReleasePlatform,
  distdir: string,
  outdir: string,
): string {
  const binary = join(distdir, platform.binaryName);
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`bun run build:all\` first`);
  }
  const dir = join(outdir, platform.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(binary, join(dir, "bin", platform.packagedBinaryName));
  chmodSync(join(dir, "bin", platform.packagedBinaryName), 0o755);
  writeFileSync(
    join(dir, "README.md"),
    `# ${platform.npmPackage}\n\nThe ${platform.name} binary of dstream. Install \`dstream\` instead: it picks this package on ${platform.name}.\n`,
  );
  writeJson(join(dir, "package.json"), {
    name: platform.npmPackage,
    ...common,
    description: `The ${platform.name} binary of dstream`,
    os: [platform.os],
    cpu: [platform.arch],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    files: ["bin"],
    preferUnplugged: true,
  });
  return dir;
}

/** Writes every package; returns their folders, platform packages first (publish order). */
export function generateNpmPackages(
  distdir: string,
  outdir: string,
  platforms: readonly ReleasePlatform[] = releasePlatforms,
): string[] {
  mkdirSync(outdir, { recursive: true });
  const dirs = platforms.map((platform) => writePlatformPackage(platform, distdir, outdir));
  dirs.push(writeMainPackage(outdir));
  return dirs;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dist: { type: "string", default: "dist" },
      out: { type: "string", default: "dist/npm" },
      only: { type: "string" },
    },
  });
  const platforms = values.only ? values.only.split(",").map(platformNamed) : releasePlatforms;
  for (const dir of generateNpmPackages(resolve(values.dist), resolve(values.out), platforms)) {
    process.stdout.write(`${dir}\n`);
  }
}

if (import.meta.main) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
