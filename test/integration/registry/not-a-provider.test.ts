// Only DESIGN.md's two layouts are providers: a container image (single manifest or multi-platform
// index, tar+gzip layers) or a provider artifact holding archives is refused before any download.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostPlatform } from "../../../src/oci/index.ts";
import {
  putManifest,
  type RunningRegistry,
  runDstream,
  startRegistry,
  uploadBlob,
} from "../../helpers/registry.ts";

const { os, architecture } = hostPlatform();
const host = `${os}/${architecture}`;
const ociManifest = "application/vnd.oci.image.manifest.v1+json";
const tarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
const imageConfig = "application/vnd.oci.image.config.v1+json";
let registry: RunningRegistry;
let folder: string;

const digestOf = (bytes: Uint8Array) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function blob(repository: string, mediaType: string, bytes: Uint8Array) {
  return {
    mediaType,
    digest: await uploadBlob(registry.host, repository, bytes),
    size: bytes.byteLength,
  };
}

/** A container image's manifest: an image config and one tar+gzip layer. */
async function imageManifest(repository: string) {
  const layer = Bun.gzipSync(new TextEncoder().encode("bin/sh and friends"));
  const config = json({ architecture, os, rootfs: { type: "layers", diff_ids: [] } });
  return {
    schemaVersion: 2,
    mediaType: ociManifest,
    config: await blob(repository, imageConfig, config),
    layers: [await blob(repository, tarGzip, layer)],
  };
}

async function pull(reference: string) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  const cache = join(dir, "cache");
  const result = await runDstream(["providers", "pull"], {
    cwd: dir,
    env: { DSTREAM_CACHE_DIR: cache },
  });
  // Refused before any download, and nothing pinned.
  expect(await readdir(join(cache, "blobs")).catch(() => [])).toEqual([]);
  expect(await Bun.file(join(dir, "dstream.lock.hcl")).exists()).toBe(false);
  return result;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-not-a-provider-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("not a dstream provider", () => {
  test("a multi-platform container image (image index, tar+gzip layers)", async () => {
    const manifest = await putManifest(
      registry.host,
      "library/alpine",
      "platform",
      await imageManifest("library/alpine"),
    );
    await putManifest(registry.host, "library/alpine", "3", {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: ociManifest,
          digest: digestOf(manifest),
          size: manifest.byteLength,
          platform: { os, architecture },
        },
      ],
    });
    const reference = `${registry.host}/library/alpine:3`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: ${reference} is not a dstream provider (an image index with artifactType none; expected application/vnd.dstream.provider)\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("a single-manifest container image", async () => {
    await putManifest(registry.host, "acme/app", "v1", await imageManifest("acme/app"));
    const reference = `${registry.host}/acme/app:v1`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: ${reference} is not a dstream provider (a manifest with artifactType none and config ${imageConfig}; expected artifactType application/vnd.dstream.provider)\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("a provider index whose platform manifest holds an archive, not the executable", async () => {
    const manifest = await putManifest(registry.host, "acme/archived", "platform", {
      ...(await imageManifest("acme/archived")),
      artifactType: "application/vnd.dstream.provider",
      config: await blob("acme/archived", "application/vnd.oci.empty.v1+json", json({})),
    });
    await putManifest(registry.host, "acme/archived", "v1", {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      artifactType: "application/vnd.dstream.provider",
      manifests: [
        {
          mediaType: ociManifest,
          digest: digestOf(manifest),
          size: manifest.byteLength,
          platform: { os, architecture },
        },
      ],
    });
    const reference = `${registry.host}/acme/archived:v1`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: ${reference} is not a dstream provider (its ${host} manifest has layers of type ${tarGzip}; expected one application/vnd.dstream.provider.binary.v1 layer)\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });

  test("layout (b) whose platform layer is a tar+gzip archive", async () => {
    const layer = await blob("acme/zipped", tarGzip, Bun.gzipSync(json("archive")));
    await putManifest(registry.host, "acme/zipped", "v1", {
      schemaVersion: 2,
      mediaType: ociManifest,
      artifactType: "application/vnd.dstream.provider",
      config: await blob("acme/zipped", "application/vnd.oci.empty.v1+json", json({})),
      layers: [
        {
          ...layer,
          annotations: { "org.opencontainers.image.title": `plugin.${os}_${architecture}` },
        },
      ],
    });
    const reference = `${registry.host}/acme/zipped:v1`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: ${reference} is not a dstream provider (its ${host} layer is ${tarGzip}; expected application/vnd.oci.image.layer.v1.tar holding the raw executable)\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });
});
