// What makes an artifact a dstream provider (DESIGN.md layouts a and b); anything else, such as a
// container image, is refused before a byte of it is downloaded.
import { DstreamError } from "../../errors.ts";
import {
  emptyConfig,
  ociLayerTar,
  providerArtifactType,
  providerBinary,
  providerConfig,
} from "../../oci/index.ts";
import type { Descriptor } from "./artifact.ts";

interface Manifest {
  artifactType?: string;
  config?: { mediaType?: string };
  layers?: Descriptor[];
}

const configTypes = new Set([emptyConfig, providerConfig]);

function notAProvider(subject: string, reason: string): DstreamError {
  return new DstreamError("REGISTRY", `${subject} is not a dstream provider (${reason})`);
}

const named = (value: string | undefined) => value ?? "none";

/** Layout (a): an image index whose artifactType says provider. */
export function checkProviderIndex(subject: string, index: Manifest): void {
  if (index.artifactType !== providerArtifactType) {
    throw notAProvider(
      subject,
      `an image index with artifactType ${named(index.artifactType)}; expected ${providerArtifactType}`,
    );
  }
}

function checkConfig(subject: string, where: string, manifest: Manifest): void {
  const type = manifest.config?.mediaType;
  if (type === undefined || !configTypes.has(type)) {
    throw notAProvider(
      subject,
      `${where} has config ${named(type)}; expected ${emptyConfig} or ${providerConfig}`,
    );
  }
}

/** Layout (a): a platform's manifest, an empty or provider.json config and one raw-binary layer. */
export function binaryOfPlatformManifest(
  subject: string,
  platform: string,
  manifest: Manifest,
): Descriptor {
  const where = `its ${platform} manifest`;
  checkConfig(subject, where, manifest);
  const layers = manifest.layers ?? [];
  const binaries = layers.filter((layer) => layer.mediaType === providerBinary);
  const [binary] = binaries;
  if (binaries.length !== 1 || !binary) {
    const types = [...new Set(layers.map((layer) => layer.mediaType))].join(", ") || "none";
    throw notAProvider(
      subject,
      `${where} has layers of type ${types}; expected one ${providerBinary} layer`,
    );
  }
  return binary;
}

/** Layout (b): one manifest whose artifactType says provider, with an empty (or provider.json) config. */
export function checkProviderManifest(subject: string, manifest: Manifest): void {
  if (manifest.artifactType !== providerArtifactType) {
    throw notAProvider(
      subject,
      `a manifest with artifactType ${named(manifest.artifactType)} and config ${named(manifest.config?.mediaType)}; expected artifactType ${providerArtifactType}`,
    );
  }
  checkConfig(subject, "its manifest", manifest);
}

/** Layout (b): a platform's layer holds the raw file, not an archive. */
export function checkPlatformLayer(subject: string, platform: string, layer: Descriptor): void {
  if (layer.mediaType !== ociLayerTar && layer.mediaType !== providerBinary) {
    throw notAProvider(
      subject,
      `its ${platform} layer is ${named(layer.mediaType)}; expected ${ociLayerTar} holding the raw executable`,
    );
  }
}
