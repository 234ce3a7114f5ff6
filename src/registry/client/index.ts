// The OCI distribution client: one repository's manifests and blobs over fetch(), with auth,
// credentials, bounded waits and one retry policy.
export { type FetchedManifest, RegistryClient } from "./client.ts";
export { RetryBudget } from "./retry.ts";
export type { Env } from "./transport.ts";
