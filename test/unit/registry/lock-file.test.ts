import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstreamError } from "../../../src/errors.ts";
import {
  formatLockFile,
  type LockedProvider,
  type LockedProviders,
  readLockFile,
  updateLockFile,
} from "../../../src/registry/lock-file.ts";

const folder = await mkdtemp(join(tmpdir(), "dstream-lock-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

const a = `sha256:${"a".repeat(64)}`;
const b = `sha256:${"b".repeat(64)}`;
const c = `sha256:${"c".repeat(64)}`;
const d = `sha512:${"d".repeat(128)}`;

const providers: LockedProviders = new Map<string, LockedProvider>([
  [
    "ghcr.io/acme/pg-cdc:v1.2.0",
    {
      digest: a,
      platforms: {
        "linux/amd64": { digest: b, size: 10 },
        "darwin/arm64": { digest: c, size: 12 },
      },
    },
  ],
  [`localhost:5000/x@${a}`, { digest: a, platforms: { "linux/arm64": { digest: c, size: 1 } } }],
  [`localhost:5000/y@${d}`, { digest: d, platforms: { "linux/arm64": { digest: d, size: 2 } } }],
]);

async function readText(text: string): Promise<LockedProviders> {
  const path = join(folder, `lock-${crypto.randomUUID()}.hcl`);
  await writeFile(path, text);
  return readLockFile(path);
}

async function errorOf(text: string): Promise<DstreamError> {
  try {
    await readText(text);
  } catch (error) {
    if (error instanceof DstreamError) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describe("dstream.lock.hcl", () => {
  test("writes sorted Terraform-style blocks and reads them back unchanged", async () => {
    const text = formatLockFile(providers);
    expect(text).toContain(
      [
        'provider "ghcr.io/acme/pg-cdc:v1.2.0" {',
        `  digest = "${a}"`,
        "",
        '  platform "darwin/arm64" {',
        `    binary = "${c}"`,
        "    size   = 12",
        "  }",
        "",
        '  platform "linux/amd64" {',
        `    binary = "${b}"`,
        "    size   = 10",
        "  }",
        "}",
      ].join("\n"),
    );
    expect(await readText(text)).toEqual(providers);
    expect(formatLockFile(await readText(text))).toBe(text);
  });

  test("a missing file is an empty lock", async () => {
    expect((await readLockFile(join(folder, "absent.hcl"))).size).toBe(0);
  });

  test("accepts comments of both kinds and any spacing", async () => {
    const text = `// note\nprovider "r/x:1" { # trailing\n digest="${a}"\n platform "linux/amd64" { binary = "${b}"\n size = 3 } }\n`;
    expect(await readText(text)).toEqual(
      new Map([["r/x:1", { digest: a, platforms: { "linux/amd64": { digest: b, size: 3 } } }]]),
    );
  });

  const cases: [string, string, number][] = [
    [`provider "x" {\n  digest = }\n`, '2:12: expected a quoted string or a number, found "}"', 2],
    [
      `provider "x" {\n  digest = "${a}"\n`,
      '3:1: expected an attribute, a block or "}", found the end of the file',
      2,
    ],
    [`provider "x" {\n  digest ! "${a}"\n}`, '2:10: unexpected character "!"', 2],
    [`provider {\n}`, '1:10: expected "=" or a quoted block label, found "{"', 2],
    [
      `provider "x" {\n  platform "linux/amd64" {\n  }\n}`,
      '1: provider "x" needs digest = "sha256:<64 hex> or sha512:<128 hex>"',
      2,
    ],
    [
      `provider "x" {\n  digest = "${a}"\n  platform "linux/amd64" {\n    binary = "sha256:12"\n    size = 1\n  }\n}`,
      '3: provider "x" needs platform "os/arch" blocks with binary = "sha256:<64 hex> or sha512:<128 hex>" and size = <bytes>',
      2,
    ],
    [`module "x" {\n}`, '1: unexpected block "module"', 2],
  ];
  test.each(cases)("rejects %j", async (text, message, exitCode) => {
    const error = await errorOf(text);
    const [, file] = /^(lock-[^:]+):/.exec(error.message) ?? [];
    expect(error.message).toBe(
      `${file}:${message} (fix it, or delete the file and run dstream providers lock)`,
    );
    expect(error.exitCode as number).toBe(exitCode);
  });

  test("updateLockFile keeps entries another process wrote meanwhile", async () => {
    const path = join(folder, "shared.lock.hcl");
    await updateLockFile(path, (entries) => entries.set("one/x:1", { digest: a, platforms: {} }));
    await updateLockFile(path, (entries) => entries.set("two/x:1", { digest: b, platforms: {} }));
    expect([...(await readLockFile(path)).keys()]).toEqual(["one/x:1", "two/x:1"]);
  });
});
