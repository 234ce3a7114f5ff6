// What a provider_ref names now, as the lock file records it: the artifact digest and every
// platform's binary digest and size.
import { DstreamError } from "../../errors.ts";
import type { ProviderReference } from "../../oci/index.ts";
import { type ProviderArtifact, readArtifact } from "../artifact/index.ts";
import type { RegistryClient } from "../client/index.ts";
import type { LockedProvider } from "./lock-file.ts";

export function lockEntryFor(artifact: ProviderArtifact): LockedProvider {
  const platforms: LockedProvider["platforms"] = {};
  for (const entry of artifact.platforms) {
    platforms[entry.platform] = { digest: entry.binary.digest, size: entry.binary.size };
  }
  return { digest: artifact.digest, platforms };
}

/** Fetches what a reference names now (its digest if it has one, else its tag). */
export async function fetchLockEntry(
  client: RegistryClient,
  reference: ProviderReference,
): Promise<LockedProvider> {
  const artifact = await readArtifact(client, reference.digest ?? reference.tag ?? "latest");
  if (artifact.platforms.length === 0) {
    throw new DstreamError(
      "REGISTRY",
      `${reference.original} (${artifact.digest}) holds no provider binary: expected an image index with platform manifests, or layers titled plugin.<os>_<arch> or provider.<os>-<arch>`,
    );
  }
  return lockEntryFor(artifact);
}
