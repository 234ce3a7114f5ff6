// Reads a provider artifact in either layout (DESIGN.md): (a) an image index with one manifest per
// platform, or (b) one manifest with one titled layer per platform; lists each platform's binary.
// Anything else (a container image, say) is refused here, before any binary is downloaded.
import { DstreamError } from "../../errors.ts";
import { checkDigest, isIndexType, providerConfig, titleAnnotation } from "../../oci/index.ts";
import type { FetchedManifest, RegistryClient } from "../client/index.ts";
import {
  binaryOfPlatformManifest,
  checkPlatformLayer,
  checkProviderIndex,
  checkProviderManifest,
} from "./provider-layout.ts";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

export interface PlatformBinary {
  /** "linux/amd64" */
  platform: string;
  binary: Descriptor;
  /** Layout (a): the platform's own manifest. */
  manifestDigest?: string;
}

export interface ProviderArtifact {
  digest: string;
  mediaType: string;
  layout: "index" | "manifest";
  artifactType?: string;
  annotations: Record<string, string>;
  platforms: PlatformBinary[];
  /** provider.json: layout (a)'s config blob or layout (b)'s provider.json layer. */
  providerJson?: Descriptor;
}

interface ManifestJson {
  mediaType?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

const archAliases: Record<string, string> = { x64: "amd64", amd64: "amd64", arm64: "arm64" };

/** `plugin.linux_amd64`, `plugin.windows_amd64.exe`, `provider.darwin-arm64`, `provider.linux-x64`. */
export function platformFromTitle(title: string): string | undefined {
  const match =
    /^plugin\.(linux|darwin|windows)_(amd64|arm64)(?:\.exe)?$/.exec(title) ??
    /^provider\.(linux|darwin|windows)-(x64|amd64|arm64)(?:\.exe)?$/.exec(title);
  if (!match) return undefined;
  return `${match[1]}/${archAliases[match[2] ?? ""]}`;
}

function parseJson(manifest: FetchedManifest, subject: string): ManifestJson {
  try {
    const value = JSON.parse(new TextDecoder().decode(manifest.bytes)) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as ManifestJson;
    }
  } catch {
    // Reported below with the reference.
  }
  throw new DstreamError(
    "REGISTRY",
    `the manifest ${manifest.digest} of ${subject} is not a JSON object`,
  );
}

/** A binary's descriptor names the file dstream writes and the bytes it expects: both must be sane. */
function checkBinary(entry: PlatformBinary, subject: string): PlatformBinary {
  const where = `the ${entry.platform} binary of ${subject}`;
  checkDigest(entry.binary.digest, where);
  const size = entry.binary.size as unknown;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new DstreamError(
      "REGISTRY",
      `${where} has the size ${JSON.stringify(size)}, which is not a byte count`,
    );
  }
  return entry;
}

async function readIndex(
  client: RegistryClient,
  index: ManifestJson,
): Promise<{ platforms: PlatformBinary[]; providerJson?: Descriptor }> {
  checkProviderIndex(client.subject, index);
  const entries = (index.manifests ?? []).filter(
    (entry) => entry.platform?.os && entry.platform.architecture,
  );
  let providerJson: Descriptor | undefined;
  const platforms = await Promise.all(
    entries.map(async (entry): Promise<PlatformBinary> => {
      // A digest, never a tag: the index pins its manifests.
      const fetched = await client.fetchManifest(
        checkDigest(entry.digest, `the index of ${client.subject}`),
      );
      const manifest = parseJson(fetched, client.subject);
      const platform = `${entry.platform?.os}/${entry.platform?.architecture}`;
      const binary = binaryOfPlatformManifest(client.subject, platform, manifest);
      if (manifest.config?.mediaType === providerConfig) providerJson ??= manifest.config;
      return { platform, binary, manifestDigest: entry.digest };
    }),
  );
  return { platforms, ...(providerJson ? { providerJson } : {}) };
}

function readSingleManifest(
  subject: string,
  manifest: ManifestJson,
): {
  platforms: PlatformBinary[];
  providerJson?: Descriptor;
} {
  checkProviderManifest(subject, manifest);
  const platforms: PlatformBinary[] = [];
  let providerJson: Descriptor | undefined;
  for (const layer of manifest.layers ?? []) {
    const title = layer.annotations?.[titleAnnotation] ?? "";
    if (title === "provider.json") providerJson = layer;
    const platform = platformFromTitle(title);
    if (!platform) continue;
    checkPlatformLayer(subject, platform, layer);
    platforms.push({ platform, binary: layer });
  }
  if (manifest.config?.mediaType === providerConfig) providerJson ??= manifest.config;
  return { platforms, ...(providerJson ? { providerJson } : {}) };
}

/** Fetches the artifact a tag or digest names and lists its platforms (no binary is downloaded). */
export async function readArtifact(
  client: RegistryClient,
  tagOrDigest: string,
): Promise<ProviderArtifact> {
  const fetched = await client.fetchManifest(tagOrDigest);
  const manifest = parseJson(fetched, client.subject);
  const mediaType = fetched.mediaType || manifest.mediaType || "";
  const layout = isIndexType(mediaType) || manifest.manifests ? "index" : "manifest";
  const contents =
    layout === "index"
      ? await readIndex(client, manifest)
      : readSingleManifest(client.subject, manifest);
  return {
    digest: fetched.digest,
    mediaType,
    layout,
    ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
    annotations: manifest.annotations ?? {},
    ...contents,
    platforms: contents.platforms
      .map((entry) => checkBinary(entry, client.subject))
      .sort((a, b) => a.platform.localeCompare(b.platform)),
  };
}
