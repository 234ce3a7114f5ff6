// dstream providers inspect: what a reference holds (platforms, digests, annotations, provider.json),
// read from the registry without downloading any binary.

import type { ProviderReference } from "../../oci/index.ts";
import type { Env } from "../client/index.ts";
import { RegistryClient } from "../client/index.ts";
import { type ProviderArtifact, readArtifact } from "./artifact.ts";

export interface Inspection extends ProviderArtifact {
  reference: string;
  /** The parsed provider.json, when the artifact carries one. */
  provider?: unknown;
}

/** provider.json is tiny; anything larger is not read into memory. */
const PROVIDER_JSON_LIMIT = 1_000_000;

export async function inspectProvider(
  reference: ProviderReference,
  options: { env?: Env } = {},
): Promise<Inspection> {
  const client = new RegistryClient(reference, { env: options.env ?? process.env });
  const artifact = await readArtifact(client, reference.digest ?? reference.tag ?? "latest");
  const result: Inspection = { reference: reference.original, ...artifact };
  const descriptor = artifact.providerJson;
  if (descriptor && descriptor.size <= PROVIDER_JSON_LIMIT) {
    const bytes = await client.fetchSmallBlob(descriptor.digest);
    try {
      result.provider = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      result.provider = new TextDecoder().decode(bytes);
    }
  }
  return result;
}
