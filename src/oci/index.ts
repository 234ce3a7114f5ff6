// OCI names, below config and registry: reference syntax, digests (syntax and hashing), platform
// names and the media types of provider artifacts. Nothing here talks to a registry.
export {
  algorithmOf,
  checkDigest,
  type DigestAlgorithm,
  Digester,
  digestFormat,
  digestOf,
  fileDigest,
  isDigest,
} from "./digest.ts";
export {
  emptyConfig,
  emptyConfigBytes,
  emptyConfigDigest,
  isIndexType,
  manifestAccept,
  ociIndex,
  ociLayerTar,
  ociManifest,
  providerArtifactType,
  providerBinary,
  providerConfig,
  titleAnnotation,
} from "./media-types.ts";
export { formatPlatform, hostPlatform, type Platform } from "./platform.ts";
export { type ProviderReference, parseReference } from "./reference.ts";
