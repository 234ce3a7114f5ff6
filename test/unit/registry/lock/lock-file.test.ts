import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DstreamError } from "../../../../src/errors.ts";
import type { RegistryError } from "../../../../src/registry/index.ts";
import {
  formatLockFile,
  type LockedProvider,
  type LockedProviders,
  readLockFile,
  updateLockFile,
} from "../../../../src/registry/lock/lock-file.ts";

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

  test("the file as dstream writes it is read without starting the HCL parser (a run's start)", async () => {
    const path = join(folder, "written.lock.hcl");
    await writeFile(path, formatLockFile(providers));
    const module = resolve(import.meta.dir, "../../../../src/registry/lock/lock-file.ts");
    const reader = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const { readLockFile } = await import(${JSON.stringify(module)});
         const read = await readLockFile(${JSON.stringify(path)});
         // The Go program registers its parse function on this global when it starts.
         console.log(read.size, "__parse_terraform_config_wasm__" in globalThis);`,
      ],
      { stdout: "pipe", stderr: "inherit", timeout: 30_000 },
    );
    expect(await new Response(reader.stdout).text()).toBe("3 false\n");
    // One character off the written form, and the HCL parser reads it.
    expect(await readText(formatLockFile(providers).replace("size   = 12", "size = 12"))).toEqual(
      providers,
    );
  });

  test("a missing file is an empty lock", async () => {
    expect((await readLockFile(join(folder, "absent.hcl"))).size).toBe(0);
  });

  test("is read with the HCL parser of dstream.hcl: comments of every kind, any spacing", async () => {
    const text = `// note\nprovider "r/x:1" { # trailing\n digest="${a}"\n /* block */ platform   "linux/amd64"   {\n\n binary = "${b}"\n size = 3\n }\n}\n`;
    expect(await readText(text)).toEqual(
      new Map([["r/x:1", { digest: a, platforms: { "linux/amd64": { digest: b, size: 3 } } }]]),
    );
  });

  const platformBlocks = `needs platform "os/arch" blocks with binary = "sha256:<64 hex> or sha512:<128 hex>" and size = <bytes>`;
  const cases: [string, string, number][] = [
    // Syntax errors: HashiCorp's parser, its summary at its line and column.
    [`provider "x" {\n  digest = }\n`, "2:12: Invalid expression", 2],
    [`provider "x" {\n  digest = "${a}"\n`, "1:14: Unclosed configuration block", 2],
    [`provider "x" {\n  digest ! "${a}"\n}`, "2:3: Argument or block definition required", 2],
    ["\u0000\u0000\u0000\u0000", "1:1: Invalid character", 2],
    // Content errors: at the block or attribute they are about.
    [`provider {\n}`, '1:1: provider blocks need one label: provider "<provider_ref>" { ... }', 2],
    [`provider "x" "y" {\n}`, '1:1: provider "x" has a second label', 2],
    [
      `provider "x" {\n  platform "linux/amd64" {\n  }\n}`,
      '1:1: provider "x" needs digest = "sha256:<64 hex> or sha512:<128 hex>"',
      2,
    ],
    [
      `provider "x" {\n  digest = "sha256:12"\n}`,
      '2:3: provider "x" needs digest = "sha256:<64 hex> or sha512:<128 hex>"',
      2,
    ],
    [
      `provider "x" {\n  digest = "${a}"\n  platform "linux/amd64" {\n    binary = "sha256:12"\n    size = 1\n  }\n}`,
      `3:3: provider "x" ${platformBlocks}`,
      2,
    ],
    [
      `provider "x" {\n  digest = "${a}"\n  platform "linux/amd64" {\n    binary = "${b}"\n    size = 1.5\n  }\n}`,
      `3:3: provider "x" ${platformBlocks}`,
      2,
    ],
    [`module "x" {\n}`, '1:1: unexpected block "module"', 2],
    [`\n\ndigest = 1`, '3:1: unexpected attribute "digest"', 2],
    [
      `provider "x" {\n  digest = "${a}"\n  mirror "y" {\n  }\n}`,
      '3:3: unexpected block "mirror" in provider "x"',
      2,
    ],
    [
      `provider "x" {\n  digest = "${a}"\n}\nprovider "x" {\n  digest = "${a}"\n}`,
      '1:1: provider "x" is written twice',
      2,
    ],
    // A label's control characters stay escaped: an error is one line.
    [
      `provider "x\\ny" {\n}`,
      '1:1: provider "x\\ny" needs digest = "sha256:<64 hex> or sha512:<128 hex>"',
      2,
    ],
  ];
  test.each(cases)("rejects %j", async (text, message, exitCode) => {
    const error = await errorOf(text);
    const [, file] = /^(lock-[^:]+):/.exec(error.message) ?? [];
    expect(error.message).toBe(`${file}:${message}`);
    expect(error.exitCode as number).toBe(exitCode);
    // The CLI adds how to fix it: "(fix it, or delete the file and run dstream providers lock)".
    expect((error as RegistryError).remedy).toEqual({ kind: "relock" });
  });

  test("updateLockFile keeps entries another process wrote meanwhile", async () => {
    const path = join(folder, "shared.lock.hcl");
    await updateLockFile(path, (entries) => entries.set("one/x:1", { digest: a, platforms: {} }));
    await updateLockFile(path, (entries) => entries.set("two/x:1", { digest: b, platforms: {} }));
    expect([...(await readLockFile(path)).keys()]).toEqual(["one/x:1", "two/x:1"]);
  });

  test("several processes updating at once lose no entry", async () => {
    const path = join(folder, "contended.lock.hcl");
    const module = resolve(import.meta.dir, "../../../../src/registry/lock/lock-file.ts");
    const writers = Array.from({ length: 6 }, (_, writer) =>
      Bun.spawn(
        [
          process.execPath,
          "-e",
          `const { updateLockFile } = await import(${JSON.stringify(module)});
           for (let n = 0; n < 10; n++) {
             await updateLockFile(${JSON.stringify(path)}, (entries) =>
               entries.set("w${writer}/x:" + n, { digest: ${JSON.stringify(a)}, platforms: {} }));
           }`,
        ],
        { stdout: "ignore", stderr: "pipe", timeout: 30_000 },
      ),
    );
    for (const writer of writers) {
      expect(await new Response(writer.stderr).text()).toBe("");
      expect(await writer.exited).toBe(0);
    }
    expect((await readLockFile(path)).size).toBe(60);
    expect((await readdir(folder)).filter((name) => name.startsWith("contended."))).toEqual([
      "contended.lock.hcl",
    ]);
  });

  test("a lock held by a live process is waited for, then a named 'took too long' error", async () => {
    const path = join(folder, "held.lock.hcl");
    await writeFile(`${path}.lock`, `${process.pid} ${hostname()} held-by-this-test`);
    const started = performance.now();
    const error = await updateLockFile(path, () => {}, { waitMs: 300 }).catch((caught) => caught);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(error).toBeInstanceOf(DstreamError);
    expect((error as DstreamError).message).toBe(
      `another dstream process has held held.lock.hcl.lock for more than 0.3 s, so held.lock.hcl could not be updated; if none is running, delete ${path}.lock`,
    );
    expect((error as DstreamError).exitCode as number).toBe(1);
  });

  test("a lock whose process is gone is taken over at once", async () => {
    const path = join(folder, "orphan.lock.hcl");
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    await writeFile(`${path}.lock`, `${gone.pid} ${hostname()} left-behind`);
    await updateLockFile(path, (entries) => entries.set("r/x:1", { digest: a, platforms: {} }), {
      waitMs: 2_000,
    });
    expect([...(await readLockFile(path)).keys()]).toEqual(["r/x:1"]);
    expect(await Bun.file(`${path}.lock`).exists()).toBe(false);
  });

  test("a lock untouched for longer than the stale time is taken over", async () => {
    const path = join(folder, "abandoned.lock.hcl");
    await writeFile(`${path}.lock`, `${process.pid} elsewhere.example abandoned`);
    const longAgo = new Date(Date.now() - 120_000);
    await utimes(`${path}.lock`, longAgo, longAgo);
    await updateLockFile(path, (entries) => entries.set("r/x:1", { digest: a, platforms: {} }), {
      waitMs: 2_000,
      staleMs: 60_000,
    });
    expect([...(await readLockFile(path)).keys()]).toEqual(["r/x:1"]);
  });
});
