// Layout (b), as existing DStream providers publish it with `oras push`: one manifest, one raw-file
// layer per platform titled plugin.<os>_<arch> or provider.<os>-<x64|arm64>, and a provider.json layer.
// The test publishes with plain HTTP calls, independent of dstream's own client.
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
  uploadBlob,
} from "../../helpers/registry.ts";

let registry: RunningRegistry;
let folder: string;
const host = hostPlatform();

const digestOf = (bytes: Uint8Array) =>
  `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

interface LayerFile {
  title: string;
  bytes: Uint8Array;
}

/** Publishes the manifest `oras push --artifact-type application/vnd.dstream.provider` writes. */
async function publishLayoutB(
  repository: string,
  tag: string,
  files: LayerFile[],
): Promise<string> {
  const empty = new TextEncoder().encode("{}");
  const layers = [];
  for (const file of files) {
    layers.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: await uploadBlob(registry.host, repository, file.bytes),
      size: file.bytes.byteLength,
      annotations: { "org.opencontainers.image.title": file.title },
    });
  }
  const manifest = await putManifest(registry.host, repository, tag, {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.dstream.provider",
    config: {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: await uploadBlob(registry.host, repository, empty),
      size: 2,
      data: "e30=",
    },
    layers,
    annotations: { "org.opencontainers.image.created": "2025-01-01T00:00:00Z" },
  });
  return digestOf(manifest);
}

const text = (value: string) => new TextEncoder().encode(value);
const providerJson = text(
  JSON.stringify({
    name: "pg-cdc",
    version: "1.2.0",
    type: "input",
    platforms: ["linux/amd64", "darwin/arm64"],
  }),
);

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
  return { ...result, cache, dir };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-layout-b-"));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

const arch64 = (architecture: string) => (architecture === "amd64" ? "x64" : architecture);

describe("layout (b): one manifest, one layer per platform", () => {
  test.each([
    [
      "plugin.<os>_<arch>",
      (os: string, architecture: string) =>
        `plugin.${os}_${architecture}${os === "windows" ? ".exe" : ""}`,
    ],
    [
      "provider.<os>-<x64|arm64>",
      (os: string, architecture: string) =>
        `provider.${os}-${arch64(architecture)}${os === "windows" ? ".exe" : ""}`,
    ],
  ])(
    "naming %s: the host's layer is pulled and verified, provider.json is inspected",
    async (naming, name) => {
      const repository = `dstream/${naming.startsWith("plugin") ? "plugin" : "provider"}-style`;
      const platforms = [
        ["linux", "amd64"],
        ["linux", "arm64"],
        ["darwin", "arm64"],
        ["windows", "amd64"],
      ] as const;
      const files = platforms.map(([os, architecture]) => ({
        title: name(os, architecture),
        bytes: text(`#!/bin/sh\necho ${os}-${architecture}\n`),
      }));
      const manifestDigest = await publishLayoutB(repository, "v1.2.0", [
        ...files,
        { title: "provider.json", bytes: providerJson },
      ]);
      const reference = `${registry.host}/${repository}:v1.2.0`;

      const pulled = await pull(reference);
      expect(pulled.stderr).toBe("");
      expect(pulled.exitCode).toBe(0);
      const hostFile =
        files[
          platforms.findIndex(
            ([os, architecture]) => os === host.os && architecture === host.architecture,
          )
        ];
      const hostDigest = digestOf(hostFile?.bytes as Uint8Array);
      expect(pulled.stdout).toBe(`${reference}  ${formatPlatform(host)}  ${hostDigest}\n`);
      expect(await readdir(join(pulled.cache, "blobs", "sha256"))).toEqual([hostDigest.slice(7)]);

      const lock = await Bun.file(join(pulled.dir, "dstream.lock.hcl")).text();
      expect(lock).toContain(`provider "${reference}" {\n  digest = "${manifestDigest}"`);
      for (const [index, [os, architecture]] of platforms.entries()) {
        const digest = digestOf(files[index]?.bytes as Uint8Array);
        expect(lock).toContain(`platform "${os}/${architecture}" {\n    binary = "${digest}"`);
      }

      const inspected = await runDstream(["providers", "inspect", reference, "--json"]);
      expect(inspected.exitCode).toBe(0);
      const inspection = JSON.parse(inspected.stdout);
      expect(inspection.layout).toBe("manifest");
      expect(inspection.digest).toBe(manifestDigest);
      expect(inspection.annotations).toEqual({
        "org.opencontainers.image.created": "2025-01-01T00:00:00Z",
      });
      expect(inspection.platforms.map((entry: { platform: string }) => entry.platform)).toEqual([
        "darwin/arm64",
        "linux/amd64",
        "linux/arm64",
        "windows/amd64",
      ]);
      expect(inspection.provider).toEqual(JSON.parse(new TextDecoder().decode(providerJson)));
    },
  );

  test("a manifest with no platform layers says what dstream looks for", async () => {
    const digest = await publishLayoutB("dstream/empty", "v1", [
      { title: "README.md", bytes: text("hi") },
    ]);
    const reference = `${registry.host}/dstream/empty:v1`;
    const pulled = await pull(reference);
    expect(pulled.stderr).toBe(
      `error: ${reference} (${digest}) holds no provider binary: expected an image index with platform manifests, or layers titled plugin.<os>_<arch> or provider.<os>-<arch>\n`,
    );
    expect(pulled.exitCode).toBe(1);
  });
});
