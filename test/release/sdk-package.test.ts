// @dstream/sdk as a provider author gets it: packed by `npm run sdk:pack`, installed by npm into a
// copy of examples/provider-ts, typechecked against the package's own declarations, built and run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { PROTOCOL_VERSION } from "../../src/protocol/index.ts";
import { assertNoNodeModulesAbove, runDstreamSource, runProcess } from "../helpers/binary.ts";
import { runToEnd } from "../integration/providers/helpers.ts";

const repoRoot = resolve(import.meta.dir, "../..");
const tsc = join(repoRoot, "node_modules/.bin/tsc");
const installed = () => join(project, "node_modules/@dstream/sdk");

/** Fails to typecheck unless the package's declarations are real types, not `any`. */
const typesProbe = `import * as v from "valibot";
import { Batch, configObject, defineInput, defineOutput, type Envelope } from "@dstream/sdk";

export const input = defineInput({
  schema: configObject({ count: v.number() }),
  *run(config) {
    // @ts-expect-error count is a number
    const text: string = config.count;
    yield { data: text };
  },
});
// @ts-expect-error a definition needs a schema
defineOutput({ write() {} });
export const envelope: Envelope = new Batch([], 1, 0).envelope(0);
`;

function docTsconfig(): string {
  const doc = readFileSync(join(repoRoot, "docs/provider-authoring.md"), "utf8");
  const match = /<!-- provider-authoring:tsconfig -->\n```json\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error("the marked tsconfig.json is missing from the doc");
  return match[1];
}

let work = "";
let project = "";
let tarballFiles: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "dstream-sdk-package-"));
  // Nothing above the copy may resolve @dstream/sdk for it: only what npm installed.
  assertNoNodeModulesAbove(work);
  const outdir = join(work, "pack");
  const pack = await runProcess(["npm", "run", "--silent", "sdk:pack", "--", "--outdir", outdir], {
    cwd: repoRoot,
    timeoutMs: 60_000,
  });
  if (pack.exitCode !== 0) throw new Error(`npm run sdk:pack failed:\n${pack.stderr}`);
  const tarball = pack.stdout.trim();
  const listing = await runProcess(["tar", "-tzf", tarball]);
  tarballFiles = listing.stdout.trim().split("\n").sort();

  project = join(work, "words-provider");
  cpSync(join(repoRoot, "examples/provider-ts"), project, {
    recursive: true,
    filter: (path) => !["dist", "node_modules"].includes(basename(path)),
  });
  writeFileSync(join(project, "tsconfig.json"), docTsconfig());
  writeFileSync(join(project, "types-probe.ts"), typesProbe);
  // The SDK from the tarball; valibot and @types/bun from the registry (or npm's cache).
  const install = await runProcess(
    [
      "npm",
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--no-update-notifier",
      tarball,
    ],
    { cwd: project, timeoutMs: 120_000 },
  );
  if (install.exitCode !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** tsc on the example takes about 9 s on an idle machine; the bound leaves room for a busy one. */
const TSC_TIMEOUT_MS = 60_000;
/** A test that runs tsc once, with room to report its failure. */
const TSC_TEST_TIMEOUT_MS = TSC_TIMEOUT_MS + 10_000;

test("the tarball holds the bundle, the public declarations, the manifest and the README", () => {
  expect(tarballFiles).toEqual(
    [
      "README.md",
      "index.js",
      "package.json",
      "types/protocol/builtins.d.ts",
      "types/protocol/checkpoint.d.ts",
      "types/protocol/index.d.ts",
      "types/protocol/messages.d.ts",
      "types/sdk/batch.d.ts",
      "types/sdk/checkpoint.d.ts",
      "types/sdk/config.d.ts",
      "types/sdk/define.d.ts",
      "types/sdk/file-range.d.ts",
      "types/sdk/index.d.ts",
      "types/sdk/run-provider.d.ts",
      "types/sdk/stdout-writer.d.ts",
      "types/sdk/types.d.ts",
    ].map((path) => `package/${path}`),
  );
  const manifest = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8"));
  expect(manifest.name).toBe("@dstream/sdk");
  expect(manifest.private).toBeUndefined();
  expect(manifest.version.split(".")[0]).toBe(String(PROTOCOL_VERSION));
  // The bundle reaches nothing of the repository: only Bun, Node builtins and its peer.
  const imports = [
    ...readFileSync(join(installed(), "index.js"), "utf8").matchAll(/^import .* from "(.+)";$/gm),
  ].map((match) => match[1]);
  expect([...new Set(imports)].sort()).toEqual(["bun:ffi", "fs", "valibot"]);
});

test(
  "the example typechecks against the package's declarations, and they are not any",
  async () => {
    const check = await runProcess([tsc, "-p", project, "--skipLibCheck", "false", "--listFiles"], {
      cwd: project,
      timeoutMs: TSC_TIMEOUT_MS,
    });
    expect(check.stdout.split("\n").filter((line) => /error TS\d+/.test(line))).toEqual([]);
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toContain(join(installed(), "types/sdk/index.d.ts"));
  },
  TSC_TEST_TIMEOUT_MS,
);

test("the example builds into the provider the docs describe, which speaks protocol v2", async () => {
  const build = await runProcess([process.execPath, "build.ts"], {
    cwd: project,
    timeoutMs: 60_000,
  });
  expect(build.stderr).toBe(`built ${join(project, "dist/words-provider")}\n`);
  expect(build.exitCode).toBe(0);
  const run = await runToEnd([join(project, "dist/words-provider")], {
    role: "input",
    cwd: project,
    firstLine: JSON.stringify({
      command: "run",
      config: { words: ["a", "b"] },
      protocol: PROTOCOL_VERSION,
      checkpoint: null,
    }),
  });
  expect(run.stdout).toBe(
    `{"status":"ready","protocol":2}\n` +
      `{"data":{"word":"a","round":1},"metadata":{"provider":"words","sequence":1}}\n` +
      `{"data":{"word":"b","round":1},"metadata":{"provider":"words","sequence":2}}\n`,
  );
  expect(run.stderr).toBe("emitted 2 words\n");
  expect(run.exitCode).toBe(0);

  const dstream = await runDstreamSource(["run", "words", "-c", "dstream.hcl", "--quiet"], {
    cwd: project,
    timeoutMs: 30_000,
  });
  expect(dstream.exitCode).toBe(0);
  const lines = dstream.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(10);
  expect(lines[0]).toBe('Message #1: {"word":"hello","round":1}');
  expect(lines[9]).toBe('Message #10: {"word":"provider","round":2}');
}, 120_000);

test(
  "a package that lacks a declaration file fails the typecheck, naming it",
  async () => {
    const messages = join(installed(), "types/protocol/messages.d.ts");
    renameSync(messages, `${messages}.away`);
    try {
      const check = await runProcess([tsc, "-p", project, "--skipLibCheck", "false"], {
        cwd: project,
        timeoutMs: TSC_TIMEOUT_MS,
      });
      expect(check.stdout).toContain("'./messages.js'");
      expect(check.exitCode).not.toBe(0);
    } finally {
      renameSync(`${messages}.away`, messages);
    }
  },
  TSC_TEST_TIMEOUT_MS,
);
