// The GitHub workflows, parsed as YAML: CI on three OSes, and a release that builds, smoke-tests
// every platform of the table natively, attaches the binaries and publishes the npm packages.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { releasePlatforms } from "../../scripts/platforms.ts";

const workflowsDir = resolve(import.meta.dir, "../../.github/workflows");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  "timeout-minutes"?: number;
  strategy?: { matrix: Record<string, unknown> & { include?: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function loadWorkflow(file: string): Workflow {
  return Bun.YAML.parse(readFileSync(join(workflowsDir, file), "utf8")) as Workflow;
}

function runs(job: Job): string {
  return job.steps.map((step) => step.run ?? "").join("\n");
}

describe.each([["ci.yml"], ["release.yml"]])("%s", (file) => {
  const workflow = loadWorkflow(file);

  test("every job has a time limit and every action is pinned to a version", () => {
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect({ name, limited: (job["timeout-minutes"] ?? 0) > 0 }).toEqual({ name, limited: true });
      for (const step of job.steps) {
        if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });

  test("every `npm run` names a script of package.json", () => {
    const all = Object.values(workflow.jobs).map(runs).join("\n");
    for (const [, script] of all.matchAll(/npm run ([\w:-]+)/g)) {
      expect(Object.keys(packageJson.scripts)).toContain(script as string);
    }
  });
});

describe("ci.yml", () => {
  const workflow = loadWorkflow("ci.yml");

  test("runs on pushes to main and on pull requests", () => {
    expect(workflow.on).toEqual({ push: { branches: ["main"] }, pull_request: null });
  });

  test("lints, typechecks and tests on ubuntu, macos and windows", () => {
    const { linux, "other-os": other } = workflow.jobs;
    if (!linux || !other) throw new Error("ci.yml lacks the linux or other-os job");
    expect(linux["runs-on"]).toBe("ubuntu-latest");
    // .ci/run is the full suite: typecheck, lint and `npm test`.
    expect(runs(linux)).toContain("bash .ci/run");
    const ciRun = readFileSync(resolve(import.meta.dir, "../../.ci/run"), "utf8");
    for (const command of ["npm run typecheck", "npm run lint", "npm test"]) {
      expect(ciRun).toContain(command);
    }
    expect(other.strategy?.matrix.os).toEqual(["macos-latest", "windows-latest"]);
    for (const entry of other.strategy?.matrix.include ?? [])
      expect(entry.tests).toContain("test/unit");
    expect(runs(other)).toMatch(/npm run lint[\s\S]*npm run typecheck[\s\S]*bun test /);
  });
});

describe("release.yml", () => {
  const workflow = loadWorkflow("release.yml");
  const { build, smoke, "github-release": githubRelease, npm } = workflow.jobs;

  test("runs on version tags only", () => {
    expect(workflow.on).toEqual({ push: { tags: ["v*"] } });
  });

  test("builds every target with build:all and hands the binaries and SHA256SUMS on", () => {
    expect(runs(build as Job)).toContain("npm run build:all");
    const upload = build?.steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.path).toBe("dist/dstream-*\ndist/SHA256SUMS\n");
  });

  test("smoke-tests each platform of the table on its own runner with version and the quick start", () => {
    const include = smoke?.strategy?.matrix.include ?? [];
    expect(include.map(({ platform, binary }) => ({ platform, binary }))).toEqual(
      releasePlatforms.map((platform) => ({
        platform: platform.name,
        binary: platform.binaryName,
      })),
    );
    const arm64 = include.find((entry) => entry.platform === "linux-arm64");
    expect(arm64?.runner).toMatch(/arm/);
    expect(smoke?.needs).toBe("build");
    const commands = runs(smoke as Job);
    const binary = '"dist/$' + '{{ matrix.binary }}"'; // GitHub's expression syntax, not JS's.
    expect(commands).toContain(`${binary} version`);
    expect(commands).toContain(`${binary} run my-pipeline -c examples/quickstart.hcl`);
  });

  test("attaches binaries, SHA256SUMS and install.sh to the release once the smoke tests pass", () => {
    expect(githubRelease?.needs).toBe("smoke");
    expect(runs(githubRelease as Job)).toMatch(
      /gh release create "\$GITHUB_REF_NAME" .* dist\/dstream-\* dist\/SHA256SUMS install\.sh/,
    );
  });

  test("publishes the platform packages, then the launcher package", () => {
    expect(npm?.needs).toBe("smoke");
    const commands = runs(npm as Job);
    expect(commands).toContain("npm run release:npm");
    expect(commands.indexOf('npm publish --access public "$dir"')).toBeLessThan(
      commands.indexOf("npm publish --access public dist/npm/dstream"),
    );
  });
});
