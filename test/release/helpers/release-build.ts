// One `build:all` per test process, shared by the release test files: every platform's binary in
// a temp folder with no node_modules above it, and the commit they must carry.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import packageJson from "../../../package.json" with { type: "json" };
import { hostReleasePlatform, type ReleasePlatform } from "../../../scripts/platforms.ts";
import { assertNoNodeModulesAbove, runProcess } from "../../helpers/binary.ts";

export const repoRoot = resolve(import.meta.dir, "../../..");
/**
 * examples/quickstart.hcl copied into a fresh folder: a run keeps its checkpoint in .dstream/ beside
 * the config, and a second run of the same copy resumes after the fifth message (prints none).
 */
export function quickstartCopy(): string {
  const folder = mkdtempSync(join(tmpdir(), "dstream-quickstart-"));
  process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
  const copy = join(folder, "quickstart.hcl");
  copyFileSync(join(repoRoot, "examples/quickstart.hcl"), copy);
  return copy;
}

export interface ReleaseBuild {
  /** Temp folder for the tests' own files; removed when the test process exits. */
  work: string;
  /** build:all's output: dstream-<platform>[.exe] and SHA256SUMS. */
  dist: string;
  host: ReleasePlatform;
  hostBinary: string;
  /** HEAD when build:all ran: every binary must carry it. */
  commit: string;
}

export function releaseHost(): ReleasePlatform {
  const host = hostReleasePlatform();
  if (!host) {
    throw new Error(
      `release tests run on a release platform, not ${process.platform}-${process.arch}`,
    );
  }
  return host;
}

/** `dstream version --json` as a binary of this build must print it on `platform` (Go names). */
export function versionJson(build: ReleaseBuild, platform: string) {
  return { version: packageJson.version, commit: build.commit, bun: Bun.version, platform };
}

export function hostGoPlatform(build: ReleaseBuild): string {
  return `linux/${build.host.arch === "x64" ? "amd64" : "arm64"}`;
}

async function gitHead(): Promise<string> {
  const head = await runProcess(["git", "rev-parse", "--short=12", "HEAD"], { cwd: repoRoot });
  return head.stdout.trim();
}

async function buildOnce(): Promise<ReleaseBuild> {
  const host = releaseHost();
  const work = mkdtempSync(join(tmpdir(), "dstream-release-"));
  process.on("exit", () => rmSync(work, { recursive: true, force: true }));
  assertNoNodeModulesAbove(work);
  const dist = join(work, "dist");
  const hostBinary = join(dist, host.binaryName);
  const headBefore = await gitHead();
  // Other platforms' Bun runtimes come from the npm registry once, then from Bun's cache (~/.bun).
  const build = await runProcess(
    [process.execPath, "scripts/build.ts", "--all", "--outdir", dist],
    {
      cwd: repoRoot,
      timeoutMs: 540_000,
    },
  );
  if (build.exitCode !== 0) throw new Error(`build:all failed:\n${build.stderr}`);
  const headAfter = await gitHead();
  let commit = headBefore;
  if (headAfter !== headBefore) {
    // Someone committed during the build (a shared work tree): the stamp is one of the two.
    const stamped = await runProcess([hostBinary, "version", "--json"]);
    commit = JSON.parse(stamped.stdout).commit;
    if (commit !== headBefore && commit !== headAfter) {
      throw new Error(`binary stamped ${commit}, HEAD was ${headBefore} then ${headAfter}`);
    }
  }
  return { work, dist, host, hostBinary, commit };
}

let building: Promise<ReleaseBuild> | undefined;

/** Time bound for a beforeAll that awaits releaseBuild(): a first build downloads five runtimes. */
export const RELEASE_BUILD_TIMEOUT_MS = 600_000;

export function releaseBuild(): Promise<ReleaseBuild> {
  building ??= buildOnce();
  return building;
}
