// A small OCI distribution client for one repository: manifests and blobs, with auth and clear errors.
import { DstreamError } from "../errors.ts";
import { answerChallenge } from "./auth.ts";
import { type Credentials, findCredentials } from "./credentials.ts";
import { algorithmOf, checkDigest, digestOf } from "./digest.ts";
import { manifestAccept } from "./media-types.ts";
import type { ProviderReference } from "./reference.ts";
import { type Env, registryBaseUrl, requestWithRetry } from "./transport.ts";

export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  /** The reference as the user wrote it, for error messages. */
  readonly subject: string;
  private readonly baseUrl: string;
  private readonly env: Env;
  private readonly actions: string;
  private authorization: string | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;

  constructor(reference: ProviderReference, options: { env: Env; push?: boolean }) {
    this.registry = reference.registry;
    this.repository = reference.repository;
    this.subject = reference.original;
    this.env = options.env;
    this.baseUrl = registryBaseUrl(reference.registry, options.env);
    this.actions = options.push ? "pull,push" : "pull";
  }

  /** A request to the registry API; answers one auth challenge, then fails clearly on 401/403. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith("http") ? path : `${this.baseUrl}${path}`;
    const send = () =>
      requestWithRetry(url, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string> | undefined),
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        subject: this.subject,
        registry: this.registry,
      });
    let response = await send();
    if (response.status === 401) {
      await response.body?.cancel();
      this.credentials ??= findCredentials(this.registry, this.env);
      const answer = await answerChallenge(response.headers.get("www-authenticate"), {
        registry: this.registry,
        subject: this.subject,
        credentials: await this.credentials,
        scope: `repository:${this.repository}:${this.actions}`,
      });
      if (answer) {
        this.authorization = answer;
        response = await send();
      }
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw this.accessError(response.status, (await this.credentials) !== undefined);
    }
    return response;
  }

  private accessError(status: number, hadCredentials: boolean): DstreamError {
    const action = this.actions === "pull" ? "pull" : "push";
    if (status === 403) {
      return new DstreamError(
        "REGISTRY",
        `registry ${this.registry} denied ${action} access to ${this.subject} (403 Forbidden): check that these credentials may ${action} ${this.repository}`,
      );
    }
    const message = hadCredentials
      ? `registry ${this.registry} rejected the credentials for ${this.subject} (401 Unauthorized): check DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD, or docker login ${this.registry} again`
      : `registry ${this.registry} needs credentials for ${this.subject} (401 Unauthorized): log in with docker login ${this.registry}, or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD`;
    return new DstreamError("REGISTRY", message);
  }

  private statusError(response: Response, what: string): DstreamError {
    if (response.status === 404) {
      return new DstreamError(
        "REGISTRY",
        `the ${what} of ${this.subject} was not found in registry ${this.registry} (404): check the repository name and the tag or digest`,
      );
    }
    return new DstreamError(
      "REGISTRY",
      `registry ${this.registry} answered ${response.status} ${response.statusText} for the ${what} of ${this.subject}`,
    );
  }

  /**
   * Fetches a manifest or index by tag or digest; a digest is verified against the bytes, hashed with
   * its own algorithm. Fetched by tag, the answer's digest is its sha256.
   */
  async fetchManifest(tagOrDigest: string): Promise<FetchedManifest> {
    // Tags cannot hold ":", so anything with one is a digest, and one dstream cannot verify is refused.
    const pinned = tagOrDigest.includes(":")
      ? checkDigest(tagOrDigest, `the reference ${this.subject}`)
      : undefined;
    const response = await this.request(`/v2/${this.repository}/manifests/${tagOrDigest}`, {
      headers: { accept: manifestAccept },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw this.statusError(response, "manifest");
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    const digest = digestOf(bytes, pinned ? algorithmOf(pinned) : "sha256");
    if (pinned && digest !== pinned) {
      throw new DstreamError(
        "DIGEST_MISMATCH",
        `the manifest of ${this.subject} does not match its digest: expected ${pinned}, got ${digest}`,
      );
    }
    const mediaType =
      response.headers.get("content-type")?.split(";")[0]?.trim() ||
      ((JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType ?? "");
    return { bytes, mediaType, digest };
  }

  /** Opens a blob for streaming; the caller verifies its digest. */
  async openBlob(digest: string, signal?: AbortSignal): Promise<Response> {
    const init = signal ? { signal } : {};
    let response = await this.request(`/v2/${this.repository}/blobs/${digest}`, {
      ...init,
      redirect: "manual",
    });
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      // Blob storage (a CDN, S3) gets no registry credentials: they are not meant for it.
      await response.body?.cancel();
      response = await requestWithRetry(new URL(location, this.baseUrl).toString(), {
        ...init,
        subject: this.subject,
        registry: this.registry,
      });
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw this.statusError(response, `blob ${digest}`);
    }
    return response;
  }

  async fetchSmallBlob(digest: string): Promise<Uint8Array> {
    checkDigest(digest, `a blob of ${this.subject}`);
    const bytes = new Uint8Array(await (await this.openBlob(digest)).arrayBuffer());
    const actual = digestOf(bytes, algorithmOf(digest));
    if (actual !== digest) {
      throw new DstreamError(
        "DIGEST_MISMATCH",
        `blob of ${this.subject} does not match its digest: expected ${digest}, got ${actual}`,
      );
    }
    return bytes;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request(`/v2/${this.repository}/blobs/${digest}`, {
      method: "HEAD",
    });
    return response.ok;
  }

  /** Uploads a blob monolithically (POST then PUT), unless the registry has it already. */
  async pushBlob(digest: string, body: Blob): Promise<void> {
    if (await this.hasBlob(digest)) return;
    const started = await this.request(`/v2/${this.repository}/blobs/uploads/`, {
      method: "POST",
    });
    await started.body?.cancel();
    const location = started.headers.get("location");
    if (started.status !== 202 || !location) throw this.statusError(started, "blob upload");
    const target = new URL(location, this.baseUrl);
    target.searchParams.set("digest", digest);
    const finished = await this.request(target.toString(), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    await finished.body?.cancel();
    if (finished.status !== 201) throw this.statusError(finished, `blob ${digest} upload`);
  }

  async pushManifest(tagOrDigest: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const response = await this.request(`/v2/${this.repository}/manifests/${tagOrDigest}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: bytes,
    });
    if (response.status !== 201) {
      const detail = (await response.text()).trim().slice(0, 300);
      throw new DstreamError(
        "REGISTRY",
        `registry ${this.registry} refused the manifest ${tagOrDigest} of ${this.subject} (${response.status}): ${detail}`,
      );
    }
    await response.body?.cancel();
  }
}
