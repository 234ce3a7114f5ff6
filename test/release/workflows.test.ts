// What the GitHub workflows would do, done here where it can be: the release's smoke-test step
// itself, run in bash against this machine's binary; its matrix against the platform table; and
// every `npm run` of either workflow against package.json. Triggers, time limits and action
// versions are left to GitHub: restating their strings here would only test the YAML against a
// copy of itself.
import { describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { releasePlatforms } from "../../scripts/platforms.ts";
import { dstreamBinary, runProcess } from "../helpers/binary.ts";

const repoRoot = resolve(import.meta.dir, "../..");
const workflowsDir = join(repoRoot, ".github/workflows");

interface Step {
  if?: string;
  run?: string;
  shell?: string;
}
interface Job {
  strategy?: { matrix: { include?: Record<string, string>[] } };
  steps: Step[];
}

function loadJobs(file: string): Record<string, Job> {
  return (
    Bun.YAML.parse(readFileSync(join(workflowsDir, file), "utf8")) as { jobs: Record<string, Job> }
  ).jobs;
}

const release = loadJobs("release.yml");
const smoke = release.smoke as Job;

/** The release platform this machine is (glibc Linux, macOS or Windows), if any. */
const host = releasePlatforms.find(
  (platform) =>
    platform.os === process.platform && platform.arch === process.arch && platform.libc !== "musl",
);

describe("release.yml", () => {
  test("every platform of the table is smoke-tested, each on a runner of its own", () => {
    const include = smoke.strategy?.matrix.include ?? [];
    expect(include.map(({ platform, binary }) => ({ platform, binary }))).toEqual(
      releasePlatforms.map((platform) => ({
        platform: platform.name,
        binary: platform.binaryName,
      })),
    );
  });

  test.skipIf(host === undefined || process.platform === "win32")(
    "the smoke test's own step passes with this machine's binary",
    async () => {
      const step = smoke.steps.find((candidate) => candidate.shell === "bash" && candidate.run);
      if (!step?.run || !host) throw new Error("release.yml's smoke job has no bash step");
      const work = mkdtempSync(join(tmpdir(), "dstream-smoke-"));
      try {
        // The job's fresh checkout (examples/, copied: a run keeps its checkpoint beside the
        // config) and its downloaded artifact (dist/<binary>).
        cpSync(join(repoRoot, "examples"), join(work, "examples"), {
          recursive: true,
          filter: (path) => basename(path) !== ".dstream",
        });
        mkdirSync(join(work, "dist"));
        copyFileSync(await dstreamBinary(), join(work, "dist", host.binaryName));
        // GitHub's expression syntax, not a JavaScript template.
        const expression = "$" + "{{ matrix.binary }}";
        const script = step.run.replaceAll(expression, host.binaryName);
        // How GitHub runs a `shell: bash` step.
        const result = await runProcess(
          ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
          { cwd: work, timeoutMs: 60_000 },
        );
        expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
        // `version`, then the quick start's five messages (the step itself counts them too).
        expect(result.stdout).toStartWith(`dstream ${packageJson.version} `);
        expect(result.stdout).toContain("Message #5: ");
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

describe.each([["ci.yml"], ["release.yml"]])("%s", (file) => {
  test("every `npm run` names a script of package.json", () => {
    const commands = Object.values(loadJobs(file))
      .flatMap((job) => job.steps.map((step) => step.run ?? ""))
      .join("\n");
    const scripts = [...commands.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts)
      expect(Object.keys(packageJson.scripts)).toContain(script as string);
  });
});
