// Uploads through fault proxies in front of the real registry: a retry opens a new upload session
// (a session's URL is spent once a PUT reached it), and 404s while pushing say what went wrong.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";
import { type FaultProxy, forward, httpProxy } from "./proxies.ts";

const host = formatPlatform(hostPlatform());
const emptyConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
let registry: RunningRegistry;
let folder: string;
let binary: string;
const proxies: FaultProxy[] = [];

const isUpload = (request: Request, method: string) =>
  request.method === method && new URL(request.url).pathname.includes("/blobs/uploads/");

function push(reference: string) {
  return runDstream(["providers", "push", reference, "--platform", `${host}=${binary}`]);
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-upload-"));
  registry = await startRegistry();
  binary = join(folder, "provider");
  await writeFile(binary, "#!/bin/sh\necho uploaded\n");
  await chmod(binary, 0o755);
});
afterAll(async () => {
  for (const proxy of proxies) proxy.stop();
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("blob uploads", () => {
  test("a PUT the registry took but whose answer was lost is retried in a new session", async () => {
    const posts: string[] = [];
    const puts: string[] = [];
    const proxy = httpProxy(registry.host, async (request) => {
      if (isUpload(request, "POST")) posts.push(request.url);
      if (!isUpload(request, "PUT")) return undefined;
      puts.push(new URL(request.url).pathname);
      if (puts.length > 1) return undefined;
      // The registry stores the blob and ends the session; the answer is lost on the way back.
      await (await forward(registry.host, request)).body?.cancel();
      return new Response("gateway timeout", { status: 504 });
    });
    proxies.push(proxy);
    const reference = `${proxy.host}/acme/resumed:v1`;
    const pushed = await push(reference);
    expect(pushed.stderr).toBe("");
    expect(pushed.exitCode).toBe(0);
    // Two blobs (the empty config and the binary), one more session for the failed PUT.
    expect(posts.length).toBe(3);
    expect(new Set(puts).size).toBe(puts.length);

    const dir = await mkdtemp(join(folder, "project-"));
    await writeFile(
      join(dir, "dstream.hcl"),
      `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
    );
    const pulled = await runDstream(["providers", "pull"], {
      cwd: dir,
      env: { DSTREAM_CACHE_DIR: join(dir, "cache") },
    });
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
  });

  test("a 404 on the upload URL says the session was lost", async () => {
    const proxy = httpProxy(registry.host, (request) =>
      isUpload(request, "PUT") ? new Response("upload unknown", { status: 404 }) : undefined,
    );
    proxies.push(proxy);
    const reference = `${proxy.host}/acme/lost:v1`;
    const pushed = await push(reference);
    expect(pushed.stderr).toBe(
      `error: registry ${proxy.host} lost the upload session of blob ${emptyConfigDigest} for ${reference} (404 on its upload URL): it expired, or another instance of the registry answered; push again\n`,
    );
    expect(pushed.exitCode).toBe(1);
  });

  test("a 404 on opening an upload names the repository", async () => {
    const proxy = httpProxy(registry.host, (request) =>
      isUpload(request, "POST") ? new Response("name unknown", { status: 404 }) : undefined,
    );
    proxies.push(proxy);
    const reference = `${proxy.host}/acme/absent:v1`;
    const pushed = await push(reference);
    expect(pushed.stderr).toBe(
      `error: registry ${proxy.host} has no repository acme/absent to push ${reference} into (404): check the name, or create the repository (or its project) in the registry first\n`,
    );
    expect(pushed.exitCode).toBe(1);
  });
});
