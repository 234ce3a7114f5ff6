// Release artifacts end to end, from one `build:all`: a binary per platform with SHA256SUMS, the
// linux-arm64 binary under qemu, the npm packages through npm and a registry, install.sh over HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { sha256File } from "../../scripts/build.ts";
import { hostReleasePlatform, platformNamed, releasePlatforms } from "../../scripts/platforms.ts";
import {
  assertNoNodeModulesAbove,
  baseEnv,
  type RunResult,
  runProcess,
} from "../helpers/binary.ts";
import { executableFormat } from "./helpers/binary-format.ts";
import { runInstallScript } from "./helpers/install-script.ts";
import { type LocalPackage, startNpmRegistry } from "./helpers/npm-registry.ts";
import { startReleaseServer } from "./helpers/release-server.ts";

const repoRoot = resolve(import.meta.dir, "../..");
const quickstart = join(repoRoot, "examples/quickstart.hcl");
const host = hostReleasePlatform();
if (!host)
  throw new Error(
    `release tests run on a release platform, not ${process.platform}-${process.arch}`,
  );
const goArch: Record<string, string> = { x64: "amd64", arm64: "arm64" };

let work: string;
let dist: string;
/** HEAD when build:all ran: every binary must carry it. */
let commit: string;

async function gitHead(): Promise<string> {
  const head = await runProcess(["git", "rev-parse", "--short=12", "HEAD"], { cwd: repoRoot });
  return head.stdout.trim();
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "dstream-release-"));
  dist = join(work, "dist");
  assertNoNodeModulesAbove(work); // the binaries must run with no node_modules around them
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
  commit = headBefore;
  if (headAfter !== headBefore) {
    // Someone committed during the build (a shared work tree): the stamp is one of the two.
    const stamped = await runProcess([join(dist, host.binaryName), "version", "--json"]);
    commit = JSON.parse(stamped.stdout).commit;
    if (commit !== headBefore && commit !== headAfter) {
      throw new Error(`binary stamped ${commit}, HEAD was ${headBefore} then ${headAfter}`);
    }
  }
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function versionJson(platform: string) {
  return { version: packageJson.version, commit, bun: Bun.version, platform };
}

describe("build:all", () => {
  test("writes one binary per platform, each in its OS's format for its CPU", () => {
    for (const platform of releasePlatforms) {
      const format = executableFormat(join(dist, platform.binaryName));
      const expected = { linux: "elf", darwin: "macho", win32: "pe" }[platform.os];
      expect({
        name: platform.name,
        format: format.format as string,
        arch: format.arch as string,
      }).toEqual({
        name: platform.name,
        format: expected,
        arch: platform.arch,
      });
      if (platform.os === "linux") {
        const loader = platform.libc === "musl" ? /^\/lib\/ld-musl-/ : /^\/lib(64)?\/ld-linux-/;
        expect(format.interpreter).toMatch(loader);
      }
    }
  }, 60_000);

  test("writes SHA256SUMS listing every binary, accepted by sha256sum -c", async () => {
    const listed = readFileSync(join(dist, "SHA256SUMS"), "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => line.split("  ")[1]);
    expect(listed).toEqual(releasePlatforms.map((platform) => platform.binaryName));
    const check = await runProcess(["sha256sum", "-c", "SHA256SUMS"], { cwd: dist });
    expect(check.stdout).toBe(
      releasePlatforms.map((platform) => `${platform.binaryName}: OK\n`).join(""),
    );
    expect(check.exitCode).toBe(0);
  }, 60_000);

  test("the host's binary prints its version, commit, Bun version and platform", async () => {
    const result = await runProcess([join(dist, host.binaryName), "version", "--json"]);
    expect(JSON.parse(result.stdout)).toEqual(versionJson(`linux/${goArch[host.arch]}`));
    expect(result.exitCode).toBe(0);
  }, 60_000);
});

describe("linux-arm64 binary under qemu-user-static", () => {
  const arm64 = platformNamed("linux-arm64");
  const sysroot = "/usr/aarch64-linux-gnu";

  test("prints its version", async () => {
    const binary = join(dist, arm64.binaryName);
    const result = await runProcess([
      "qemu-aarch64-static",
      "-L",
      sysroot,
      binary,
      "version",
      "--json",
    ]);
    expect(JSON.parse(result.stdout)).toEqual(versionJson("linux/arm64"));
    expect(result.exitCode).toBe(0);
  }, 60_000);

  test("runs the quick-start pipeline (built-in providers are the same binary, re-executed)", async () => {
    // Re-executing itself needs the kernel to hand arm64 executables to qemu (.ci/run registers it).
    if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
      throw new Error("binfmt_misc has no qemu-aarch64 entry: run the qemu setup in .ci/run first");
    }
    const result = await runProcess(
      [join(dist, arm64.binaryName), "run", "my-pipeline", "-c", quickstart],
      {
        env: { QEMU_LD_PREFIX: sysroot },
        timeoutMs: 90_000,
      },
    );
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stderr: expect.any(String), // shown when the exit code is not 0
    });
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    lines.forEach((line, index) => {
      const n = index + 1;
      expect(line).toMatch(
        new RegExp(`^Message #${n}: \\{"value":${n},"timestamp":"[0-9T:.-]+Z"\\}$`),
      );
    });
    expect(result.exitCode).toBe(0);
  }, 100_000);
});

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

describe("npm packages", () => {
  let registry: ReturnType<typeof startNpmRegistry>;
  let packageDirs: string[];
  let globalInstall: RunResult;
  const globalPrefix = () => join(work, "npm-prefix");

  /** `npm install [flags] dstream` from the loopback registry with a cache of its own. */
  async function npmInstall(flags: string[]) {
    const registryFlags = ["--registry", `${registry.url}/`, "--cache", join(work, "npm-cache")];
    const quiet = ["--no-audit", "--no-fund", "--no-update-notifier"];
    return runProcess(["npm", "install", ...registryFlags, ...quiet, ...flags, "dstream"], {
      timeoutMs: 120_000,
    });
  }

  beforeAll(async () => {
    const npmDir = join(work, "npm");
    const generated = await runProcess(
      [process.execPath, "scripts/npm/generate.ts", "--dist", dist, "--out", npmDir],
      { cwd: repoRoot },
    );
    if (generated.exitCode !== 0)
      throw new Error(`npm package generation failed:\n${generated.stderr}`);
    packageDirs = generated.stdout.trimEnd().split("\n");
    const tarballs = join(work, "tarballs");
    mkdirSync(tarballs);
    const packages: LocalPackage[] = [];
    for (const dir of packageDirs) {
      const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      // Only these two may be downloaded: npm must skip every other platform by os/cpu/libc.
      if (name !== "dstream" && name !== host.npmPackage) {
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
    registry = startNpmRegistry(packages);
    globalInstall = await npmInstall(["--global", "--prefix", globalPrefix()]);
  }, 300_000);

  afterAll(() => registry?.stop());

  test("the generator writes the launcher package and one package per platform", () => {
    expect(packageDirs).toEqual([
      ...releasePlatforms.map((platform) => join(work, "npm", platform.name)),
      join(work, "npm", "dstream"),
    ]);
    const main = JSON.parse(readFileSync(join(work, "npm/dstream/package.json"), "utf8"));
    expect(main.optionalDependencies).toEqual(
      Object.fromEntries(
        releasePlatforms.map((platform) => [platform.npmPackage, packageJson.version]),
      ),
    );
  }, 60_000);

  test("npm i -g installs the launcher and only this platform's binary; dstream version runs through it", async () => {
    const prefix = globalPrefix();
    expect(globalInstall.exitCode).toBe(0);
    expect(registry.downloads).toEqual(["dstream", host.npmPackage]);
    const result = await runProcess([join(prefix, "bin/dstream"), "version", "--json"]);
    expect(JSON.parse(result.stdout)).toEqual(versionJson(`linux/${goArch[host.arch]}`));
    expect(result.exitCode).toBe(0);

    const missingConfig = join(work, "missing.hcl");
    const direct = await runProcess([join(dist, host.binaryName), "validate", "-c", missingConfig]);
    const launched = await runProcess([
      join(prefix, "bin/dstream"),
      "validate",
      "-c",
      missingConfig,
    ]);
    expect(direct.exitCode).toBe(2);
    expect(launched).toEqual(direct);
  }, 180_000);

  test("through the launcher the quick start prints its messages, and SIGTERM stops it as it stops dstream", async () => {
    const launcher = join(globalPrefix(), "bin/dstream");
    const args = ["run", "my-pipeline", "-c", quickstart];
    const full = await runProcess([launcher, ...args], { timeoutMs: 30_000 });
    expect(full.stdout.match(/^Message #\d+: /gm)).toHaveLength(5);
    expect(full.exitCode).toBe(0);

    const direct = await stopAfterFirstMessage([join(dist, host.binaryName), ...args]);
    const launched = await stopAfterFirstMessage([launcher, ...args]);
    expect(launched.messages).toBeLessThan(5);
    expect(launched.exitCode).toBe(direct.exitCode);
  }, 120_000);

  test("installed with --omit=optional, the launcher explains what is missing", async () => {
    // A project install: npm 11 ignores --omit=optional for --global installs.
    const project = join(work, "npm-project-no-optional");
    mkdirSync(project);
    expect((await npmInstall(["--prefix", project, "--omit=optional"])).exitCode).toBe(0);
    const result = await runProcess([join(project, "node_modules/.bin/dstream"), "version"]);
    const label = `${host.os}-${host.arch}${host.libc ? ` (${host.libc})` : ""}`;
    expect(result.stderr).toBe(
      `error: the package ${host.npmPackage} with dstream's binary for ${label} is not installed; it is an optional dependency: reinstall dstream without --omit=optional or --no-optional (or set DSTREAM_BINARY_PATH)\n`,
    );
    expect(result.exitCode).toBe(1);
  }, 180_000);
});

describe("install.sh from a GitHub-like release server", () => {
  const repo = "acme/dstream";
  let server: ReturnType<typeof startReleaseServer>;
  let tampered: string;

  beforeAll(() => {
    // v0.0.9 serves the real binary with a SHA256SUMS that does not match it.
    tampered = join(work, "tampered");
    mkdirSync(tampered);
    symlinkSync(join(dist, host.binaryName), join(tampered, host.binaryName));
    writeFileSync(join(tampered, "SHA256SUMS"), `${"0".repeat(64)}  ${host.binaryName}\n`);
    server = startReleaseServer(repo, { "v0.1.0": dist, "v0.0.9": tampered }, "v0.1.0");
  }, 60_000);

  afterAll(() => server?.stop());

  function env(extra: Record<string, string> = {}) {
    return { DSTREAM_GITHUB_URL: server.url, DSTREAM_REPO: repo, ...extra };
  }

  test("installs the tagged release into --prefix, verified, and it runs", async () => {
    const prefix = join(work, "sh-prefix");
    server.requests.length = 0;
    const result = await runInstallScript({
      shell: "dash",
      args: ["--version", "v0.1.0", "--prefix", prefix],
      env: env({ PATH: `${prefix}/bin:${process.env.PATH}` }),
    });
    const sha = await sha256File(join(dist, host.binaryName));
    expect(result.stderr).toBe(
      `downloading ${server.url}/${repo}/releases/download/v0.1.0/${host.binaryName}\ninstalled ${prefix}/bin/dstream (${host.binaryName}, sha256 ${sha})\n`,
    );
    expect(result.exitCode).toBe(0);
    expect(server.requests).toEqual([
      `/${repo}/releases/download/v0.1.0/SHA256SUMS`,
      `/${repo}/releases/download/v0.1.0/${host.binaryName}`,
    ]);
    const version = await runProcess([join(prefix, "bin/dstream"), "version", "--json"]);
    expect(JSON.parse(version.stdout)).toEqual(versionJson(`linux/${goArch[host.arch]}`));
  }, 60_000);

  test("installs the latest release into ~/.local/bin by default and says when it is not on PATH", async () => {
    const home = join(work, "home");
    mkdirSync(home);
    const result = await runInstallScript({ shell: "sh", env: env({ HOME: home }) });
    expect(result.exitCode).toBe(0);
    expect(result.stderr.split("\n").at(-2)).toBe(
      `note: ${home}/.local/bin is not on your PATH; add it, e.g. export PATH="${home}/.local/bin:$PATH"`,
    );
    expect(await sha256File(join(home, ".local/bin/dstream"))).toBe(
      await sha256File(join(dist, host.binaryName)),
    );
  }, 60_000);

  test("picks the binary for the machine uname reports (macOS on Apple silicon)", async () => {
    const prefix = join(work, "darwin-prefix");
    const darwin = platformNamed("darwin-arm64");
    const result = await runInstallScript({
      shell: "dash",
      machine: ["Darwin", "arm64"],
      args: ["--prefix", prefix],
      env: env(),
    });
    expect(result.exitCode).toBe(0);
    expect(executableFormat(join(prefix, "bin/dstream"))).toEqual({
      format: "macho",
      arch: "arm64",
    });
    expect(await sha256File(join(prefix, "bin/dstream"))).toBe(
      await sha256File(join(dist, darwin.binaryName)),
    );
  }, 60_000);

  test("refuses a binary whose checksum does not match and installs nothing", async () => {
    const prefix = join(work, "tampered-prefix");
    const result = await runInstallScript({
      shell: "dash",
      args: ["--version", "v0.0.9", "--prefix", prefix],
      env: env(),
    });
    const sha = await sha256File(join(dist, host.binaryName));
    expect(result.stderr.split("\n").at(-2)).toBe(
      `error: checksum mismatch for ${host.binaryName}: expected ${"0".repeat(64)}, got ${sha}`,
    );
    expect(result.exitCode).toBe(1);
    expect(existsSync(join(prefix, "bin/dstream"))).toBe(false);
  }, 60_000);

  test("a release that does not exist is a download error naming the URL", async () => {
    const result = await runInstallScript({
      shell: "dash",
      args: ["--version", "v9.9.9", "--prefix", join(work, "none")],
      env: env(),
    });
    expect(result.stderr.split("\n").at(-2)).toBe(
      `error: download failed: ${server.url}/${repo}/releases/download/v9.9.9/SHA256SUMS`,
    );
    expect(result.exitCode).toBe(1);
  }, 60_000);
});
