// sha512 digests are verified with sha512, never skipped: a layer the registry stores under a sha512
// digest, a tampered one, and a reference pinned @sha512: (through a proxy, since the registry
// addresses manifests by sha256 only).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import {
  putManifest,
  type RunningRegistry,
  runDstream,
  startRegistry,
  storedBlobPath,
  uploadBlob,
} from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const title = `plugin.${host.replace("/", "_")}`;
let registry: RunningRegistry;
let folder: string;
const servers: { stop(force?: boolean): void }[] = [];

const digestOf = (bytes: Uint8Array, algorithm: "sha256" | "sha512") =>
  `${algorithm}:${new Bun.CryptoHasher(algorithm).update(bytes).digest("hex")}`;
const script = (text: string) => new TextEncoder().encode(`#!/bin/sh\necho ${text}\n`);

/** Layout (b) with the host's layer addressed by `algorithm`; answers the manifest's bytes. */
async function publish(
  repository: string,
  tag: string,
  binary: Uint8Array,
  algorithm: "sha256" | "sha512" = "sha512",
): Promise<Uint8Array> {
  return putManifest(registry.host, repository, tag, {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.dstream.provider",
    config: {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: await uploadBlob(registry.host, repository, new TextEncoder().encode("{}")),
      size: 2,
      data: "e30=",
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: await uploadBlob(registry.host, repository, binary, algorithm),
        size: binary.byteLength,
        annotations: { "org.opencontainers.image.title": title },
      },
    ],
  });
}

async function pull(reference: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  const cache = join(dir, "cache");
  const run = () =>
    runDstream(["providers", "pull"], { cwd: dir, env: { DSTREAM_CACHE_DIR: cache } });
  return { ...(await run()), cache, dir, run };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-sha512-"));
  registry = await startRegistry();
});
afterAll(async () => {
  for (const server of servers) server.stop(true);
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("sha512 digests", () => {
  test("a layer addressed by sha512 is hashed with sha512, cached and locked under it", async () => {
    const binary = script("sha512");
    await publish("acme/long", "v1", binary);
    const reference = `${registry.host}/acme/long:v1`;
    const digest = digestOf(binary, "sha512");
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe("");
    expect(pulled.exitCode).toBe(0);
    expect(pulled.stdout).toBe(`${reference}  ${host}  ${digest}\n`);
    expect(await readdir(join(pulled.cache, "blobs", "sha512"))).toEqual([digest.slice(7)]);
    const lock = await Bun.file(join(pulled.dir, "dstream.lock.hcl")).text();
    expect(lock).toContain(`binary = "${digest}"`);
    // The lock file with a sha512 binary reads back, and the cached file still matches it.
    const again = await pulled.run();
    expect([again.exitCode, again.stderr, again.stdout]).toEqual([0, "", pulled.stdout]);
  });

  test("a tampered sha512 layer is refused, naming both sha512 digests", async () => {
    const genuine = script("genuine");
    await publish("acme/tampered", "v1", genuine);
    const evil = script("evil!!!");
    // The registry keeps the bytes under their sha256 and links the sha512 digest to them.
    await writeFile(storedBlobPath(registry.storageDir, digestOf(genuine, "sha256")), evil);
    const reference = `${registry.host}/acme/tampered:v1`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: the ${host} binary of ${reference} does not match its digest: expected ${digestOf(genuine, "sha512")}, got ${digestOf(evil, "sha512")}; it was discarded and not run\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("a reference pinned @sha512: verifies the manifest with sha512", async () => {
    // sha256 layers: only the manifest's digest is sha512 here.
    const manifest = await publish("acme/pinned", "v1", script("pinned"), "sha256");
    const other = await publish("acme/pinned", "other", script("other"), "sha256");
    const pinned = digestOf(manifest, "sha512");
    let served = manifest;
    // Serves a manifest by its sha512 digest (the registry knows only its sha256); forwards the rest.
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const url = new URL(request.url);
        const path = url.pathname.replace(
          `/manifests/${pinned}`,
          `/manifests/${digestOf(served, "sha256")}`,
        );
        const upstream = await fetch(`http://${registry.host}${path}${url.search}`, {
          method: request.method,
          headers: request.headers,
        });
        return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
      },
    });
    servers.push(proxy);
    const reference = `127.0.0.1:${proxy.port}/acme/pinned@${pinned}`;

    const genuine = await pull(reference);
    expect(genuine.stderr).toBe("");
    expect(genuine.stdout).toBe(`${reference}  ${host}  ${digestOf(script("pinned"), "sha256")}\n`);
    expect(await Bun.file(join(genuine.dir, "dstream.lock.hcl")).text()).toContain(
      `digest = "${pinned}"`,
    );

    served = other;
    const swapped = await pull(reference);
    expect(swapped.stderr).toBe(
      `error: the manifest of ${reference} does not match its digest: expected ${pinned}, got ${digestOf(other, "sha512")}\n`,
    );
    expect(swapped.exitCode).toBe(1);
  });
});
