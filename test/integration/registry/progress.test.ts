// The download progress bar: drawn on stderr only when it is a terminal (a pty from `script`), and
// its line ended when a download fails, so the error starts a line of its own.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import {
  dstreamBinary,
  type RunningRegistry,
  runDstream,
  startRegistry,
} from "../../helpers/registry.ts";
import { forward, httpProxy } from "./proxies.ts";

const host = formatPlatform(hostPlatform());
let registry: RunningRegistry;
let folder: string;
let reference: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-progress-"));
  registry = await startRegistry();
  const binary = join(folder, "five-megabytes");
  const bytes = new Uint8Array(5_000_000).fill(35);
  bytes.set(new TextEncoder().encode("#!/bin/sh\nexit 0\n"));
  await writeFile(binary, bytes);
  await chmod(binary, 0o755);
  reference = `${registry.host}/acme/progress:v1`;
  expect(
    (await runDstream(["providers", "push", reference, "--platform", `${host}=${binary}`]))
      .exitCode,
  ).toBe(0);
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

async function project(ref = reference): Promise<string> {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${ref}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  return dir;
}

/** `dstream <args>` (default: providers pull) on a pty; answers what the terminal showed. */
async function pullOnTerminal(
  dir: string,
  args = "providers pull",
): Promise<{ screen: string; exitCode: number }> {
  const child = Bun.spawn(["script", "-qec", `${dstreamBinary} ${args}`, "/dev/null"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      DSTREAM_CACHE_DIR: join(dir, "cache"),
      TERM: "dumb",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  const [screen, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return { screen, exitCode };
}

/** The first `limit` bytes of a body, then its end: a connection dropped halfway. */
function cutOff(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done || sent >= limit) {
        await reader.cancel();
        controller.close();
        return;
      }
      sent += value.byteLength;
      controller.enqueue(value);
    },
  });
}

describe("progress bar", () => {
  test("on a terminal the pull draws a bar that ends at 100%", async () => {
    const { screen, exitCode } = await pullOnTerminal(await project());
    expect(exitCode).toBe(0);
    expect(screen).toContain(
      `\r\x1b[2Kpulling ${reference} [########################] 100% 5.0 MB / 5.0 MB\r\n`,
    );
  });

  test("dstream run draws it on a terminal too, but not with --quiet", async () => {
    const shown = await pullOnTerminal(await project(), "run t");
    expect(shown.exitCode).toBe(0);
    expect(shown.screen).toContain(`pulling ${reference} [`);
    const quiet = await pullOnTerminal(await project(), "run t --quiet");
    // Only the null output's own log line: no bar.
    expect(quiet).toEqual({ exitCode: 0, screen: "[t/output] discarded 0 lines (0 bytes)\r\n" });
  });

  test("without a terminal nothing but the result is printed", async () => {
    const dir = await project();
    const pulled = await runDstream(["providers", "pull"], {
      cwd: dir,
      env: { DSTREAM_CACHE_DIR: join(dir, "cache") },
    });
    expect(pulled.stderr).toBe("");
    expect(pulled.stdout).toStartWith(`${reference}  ${host}  sha256:`);
  });

  test("a download that fails ends the bar's line: the error starts a line of its own", async () => {
    const proxy = httpProxy(registry.host, async (request) => {
      if (!new URL(request.url).pathname.includes("/blobs/")) return undefined;
      const response = await forward(registry.host, request);
      const body = cutOff(response.body as ReadableStream<Uint8Array>, 2_500_000);
      return new Response(body, { status: response.status, headers: response.headers });
    });
    const proxied = `${proxy.host}/acme/progress:v1`;
    try {
      const { screen, exitCode } = await pullOnTerminal(await project(proxied));
      expect(exitCode).toBe(1);
      expect(screen).toMatch(
        new RegExp(` MB / 5\\.0 MB\\r\\nerror: the download of ${proxied.replaceAll(".", "\\.")} `),
      );
    } finally {
      proxy.stop();
    }
  });
});
