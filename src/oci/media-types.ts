// OCI and Docker media types that provider artifacts use, and the Accept header built from them.

export const ociIndex = "application/vnd.oci.image.index.v1+json";
export const ociManifest = "application/vnd.oci.image.manifest.v1+json";
export const dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
export const dockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

export const providerArtifactType = "application/vnd.dstream.provider";
export const providerBinary = "application/vnd.dstream.provider.binary.v1";
export const providerConfig = "application/vnd.dstream.provider.config.v1+json";
export const emptyConfig = "application/vnd.oci.empty.v1+json";
/** Layout (b)'s platform layers: what `oras push` calls a file, holding the raw executable. */
export const ociLayerTar = "application/vnd.oci.image.layer.v1.tar";

export const titleAnnotation = "org.opencontainers.image.title";

/** The empty JSON object `{}` that an artifact without config points at. */
export const emptyConfigBytes = new TextEncoder().encode("{}");
export const emptyConfigDigest =
  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/** Sent on every manifest request: an index fetched without it is a 404 on common registries. */
export const manifestAccept = [ociIndex, ociManifest, dockerManifestList, dockerManifest].join(
  ", ",
);

export function isIndexType(mediaType: string): boolean {
  return mediaType === ociIndex || mediaType === dockerManifestList;
}
