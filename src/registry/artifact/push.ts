// dstream providers push: writes layout (a), an image index with one manifest per platform whose
// single layer is the raw executable.
import { basename } from "node:path";
import { DstreamError } from "../../errors.ts";
import {
  digestOf,
  emptyConfig,
  emptyConfigBytes,
  emptyConfigDigest,
  fileDigest,
  ociIndex,
  ociManifest,
  type ProviderReference,
  providerArtifactType,
  providerBinary,
  providerConfig,
  titleAnnotation,
} from "../../oci/index.ts";
import type { Env } from "../client/index.ts";
import { RegistryClient } from "../client/index.ts";

export interface PlatformFile {
  /** "linux/amd64" */
  platform: string;
  path: string;
}

export interface PushOptions {
  platforms: PlatformFile[];
  /** provider.json's bytes (JSON), stored as each platform manifest's config. */
  providerJson?: Uint8Array;
  env?: Env;
}

export interface PushResult {
  /** The index digest: pin it as <repository>@<digest>. */
  digest: string;
  platforms: { platform: string; manifest: string; binary: string; size: number }[];
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function configOf(bytes: Uint8Array | undefined) {
  if (bytes === undefined) {
    // The empty descriptor carries its two bytes inline, as the image spec (and DESIGN.md) write it.
    return {
      mediaType: emptyConfig,
      digest: emptyConfigDigest,
      size: 2,
      data: "e30=",
      bytes: emptyConfigBytes,
    };
  }
  return { mediaType: providerConfig, digest: digestOf(bytes), size: bytes.byteLength, bytes };
}

export async function pushProvider(
  reference: ProviderReference,
  options: PushOptions,
): Promise<PushResult> {
  if (!reference.tag || reference.digest) {
    throw new DstreamError(
      "USAGE",
      `push needs a reference with a tag and no digest, e.g. ${reference.registry}/${reference.repository}:v1.0.0`,
    );
  }
  for (const { platform, path } of options.platforms) {
    if (!(await Bun.file(path).exists())) {
      throw new DstreamError("USAGE", `the ${platform} binary ${path} was not found`);
    }
  }
  const client = new RegistryClient(reference, { env: options.env ?? process.env, push: true });
  const config = configOf(options.providerJson);
  await client.pushBlob(config.digest, new Blob([config.bytes]));
  const { bytes: _bytes, ...configDescriptor } = config;
  const pushed: PushResult["platforms"] = [];
  const entries = [];
  for (const { platform, path } of options.platforms) {
    const binary = await fileDigest(path);
    await client.pushBlob(binary.digest, Bun.file(path));
    const manifest = encode({
      schemaVersion: 2,
      mediaType: ociManifest,
      artifactType: providerArtifactType,
      config: configDescriptor,
      layers: [
        {
          mediaType: providerBinary,
          ...binary,
          annotations: { [titleAnnotation]: basename(path) },
        },
      ],
    });
    const manifestDigest = digestOf(manifest);
    await client.pushManifest(manifestDigest, manifest, ociManifest);
    const [os, architecture] = platform.split("/");
    entries.push({
      mediaType: ociManifest,
      digest: manifestDigest,
      size: manifest.byteLength,
      artifactType: providerArtifactType,
      platform: { os, architecture },
    });
    pushed.push({ platform, manifest: manifestDigest, binary: binary.digest, size: binary.size });
  }
  const index = encode({
    schemaVersion: 2,
    mediaType: ociIndex,
    artifactType: providerArtifactType,
    manifests: entries,
  });
  await client.pushManifest(reference.tag, index, ociIndex);
  return { digest: digestOf(index), platforms: pushed };
}
