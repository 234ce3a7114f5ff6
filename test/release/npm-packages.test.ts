// The npm packages from build:all's output, packed and installed by npm from a loopback registry:
// only this platform's binary is fetched, and the launcher runs it like dstream itself.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { releasePlatforms } from "../../scripts/platforms.ts";
import { baseEnv, type RunResult, runProcess } from "../helpers/binary.ts";
import { type LocalPackage, type LocalRegistry, startNpmRegistry } from "./helpers/npm-registry.ts";
import {
  hostGoPlatform,
  quickstartCopy,
  RELEASE_BUILD_TIMEOUT_MS,
  type ReleaseBuild,
  releaseBuild,
  repoRoot,
  versionJson,
} from "./helpers/release-build.ts";

let build: ReleaseBuild;
let registry: LocalRegistry;
let packageDirs: string[];
let globalInstall: RunResult;
const launcher = () => join(build.work, "npm-prefix/bin/dstream");

/** `npm install [flags] dstream` from the loopback registry with a cache of its own. */
function npmInstall(flags: string[]): Promise<RunResult> {
  const registryFlags = [
    "--registry",
    `${registry.url}/`,
    "--cache",
    join(build.work, "npm-cache"),
  ];
  const quiet = ["--no-audit", "--no-fund", "--no-update-notifier"];
  return runProcess(["npm", "install", ...registryFlags, ...quiet, ...flags, "dstream"], {
    timeoutMs: 120_000,
  });
}

/** Packs the launcher and this platform's package; the others are served as manifests only. */
async function packForRegistry(dirs: string[]): Promise<LocalPackage[]> {
  const tarballs = join(build.work, "tarballs");
  mkdirSync(tarballs);
  const packages: LocalPackage[] = [];
  for (const dir of dirs) {
    const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    // Only these two may be downloaded: npm must skip every other platform by os/cpu/libc.
    if (name !== "dstream" && name !== build.host.npmPackage) {
      packages.push({ dir });
      continue;
    }
    const pack = await runProcess(["npm", "pack", "--pack-destination", tarballs], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    if (pack.exitCode !== 0) throw new Error(`npm pack ${dir} failed:\n${pack.stderr}`);
    packages.push({ dir, tarball: join(tarballs, pack.stdout.trim().split("\n").at(-1) ?? "") });
  }
  return packages;
}

/** Starts the quick start, sends SIGTERM once the first message is out, and waits (bounded). */
async function stopAfterFirstMessage(argv: string[]) {
  const child = Bun.spawn(argv, { env: baseEnv(), stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const decoder = new TextDecoder();
  let stdout = "";
  let signalled = false;
  for await (const chunk of child.stdout) {
    stdout += decoder.decode(chunk, { stream: true });
    if (!signalled && stdout.includes("Message #1: ")) {
      signalled = true;
      child.kill("SIGTERM");
    }
  }
  const exitCode = await child.exited;
  clearTimeout(timer);
  return { exitCode, messages: stdout.match(/^Message #\d+: /gm)?.length ?? 0 };
}

beforeAll(async () => {
  build = await releaseBuild();
  const npmDir = join(build.work, "npm");
  const generated = await runProcess(
    [process.execPath, "scripts/npm/generate.ts", "--dist", build.dist, "--out", npmDir],
    { cwd: repoRoot },
  );
  if (generated.exitCode !== 0)
    throw new Error(`npm package generation failed:\n${generated.stderr}`);
  packageDirs = generated.stdout.trimEnd().split("\n");
  registry = startNpmRegistry(await packForRegistry(packageDirs));
  globalInstall = await npmInstall(["--global", "--prefix", join(build.work, "npm-prefix")]);
}, RELEASE_BUILD_TIMEOUT_MS);

afterAll(() => registry?.stop());

test("the generator writes one package per platform, then the launcher package", () => {
  expect(packageDirs).toEqual([
    ...releasePlatforms.map((platform) => join(build.work, "npm", platform.name)),
    join(build.work, "npm", "dstream"),
  ]);
  const main = JSON.parse(readFileSync(join(build.work, "npm/dstream/package.json"), "utf8"));
  expect(main.optionalDependencies).toEqual(
    Object.fromEntries(
      releasePlatforms.map((platform) => [platform.npmPackage, packageJson.version]),
    ),
  );
});

test("npm i -g installs the launcher and only this platform's binary; dstream version runs through it", async () => {
  const { exitCode, stderr } = globalInstall;
  expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) }); // stderr on failure
  // npm fetches in parallel: the order of the two downloads varies.
  expect([...registry.downloads].sort()).toEqual(["dstream", build.host.npmPackage].sort());
  const result = await runProcess([launcher(), "version", "--json"]);
  expect(JSON.parse(result.stdout)).toEqual(versionJson(build, hostGoPlatform(build)));
  expect(result.exitCode).toBe(0);

  const missingConfig = join(build.work, "missing.hcl");
  const direct = await runProcess([build.hostBinary, "validate", "-c", missingConfig]);
  const launched = await runProcess([launcher(), "validate", "-c", missingConfig]);
  expect(direct.exitCode).toBe(2);
  expect(launched).toEqual(direct);
}, 60_000);

test("through the launcher the quick start prints its messages, and SIGTERM stops it as it stops dstream", async () => {
  // Each run on a copy of its own: a copy run before resumes after its checkpoint.
  const args = () => ["run", "my-pipeline", "-c", quickstartCopy()];
  const full = await runProcess([launcher(), ...args()], { timeoutMs: 30_000 });
  expect(full.stdout.match(/^Message #\d+: /gm)).toHaveLength(5);
  expect(full.exitCode).toBe(0);

  const direct = await stopAfterFirstMessage([build.hostBinary, ...args()]);
  const launched = await stopAfterFirstMessage([launcher(), ...args()]);
  expect(launched.messages).toBeLessThan(5);
  expect(launched.exitCode).toBe(direct.exitCode);
}, 120_000);

test("installed with --omit=optional, the launcher explains what is missing", async () => {
  // A project install: npm 11 ignores --omit=optional for --global installs.
  const project = join(build.work, "npm-project-no-optional");
  mkdirSync(project);
  expect((await npmInstall(["--prefix", project, "--omit=optional"])).exitCode).toBe(0);
  const result = await runProcess([join(project, "node_modules/.bin/dstream"), "version"]);
  const { host } = build;
  const label = `${host.os}-${host.arch}${host.libc ? ` (${host.libc})` : ""}`;
  expect(result.stderr).toBe(
    `error: the package ${host.npmPackage} with dstream's binary for ${label} is not installed; it is an optional dependency: reinstall dstream without --omit=optional or --no-optional (or set DSTREAM_BINARY_PATH)\n`,
  );
  expect(result.exitCode).toBe(1);
}, 180_000);
