// A small OCI distribution client for one repository: manifests and blobs, with auth and clear errors.
import { DstreamError, messageOf } from "../../errors.ts";
import {
  algorithmOf,
  checkDigest,
  digestOf,
  manifestAccept,
  type ProviderReference,
} from "../../oci/index.ts";
import { answerChallenge } from "./auth.ts";
import { type Credentials, envCredentials, envPair, findCredentials } from "./credentials.ts";
import { ATTEMPTS, isRetryableStatus, RetryBudget } from "./retry.ts";
import {
  type Env,
  type RequestTarget,
  registryBaseUrl,
  registryTimeoutMs,
  requestWithRetry,
} from "./transport.ts";

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
  private readonly timeoutMs: number;
  private authorization: string | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;

  constructor(reference: ProviderReference, options: { env: Env; push?: boolean }) {
    this.registry = reference.registry;
    this.repository = reference.repository;
    this.subject = reference.original;
    this.env = options.env;
    this.baseUrl = registryBaseUrl(reference.registry, options.env);
    this.actions = options.push ? "pull,push" : "pull";
    this.timeoutMs = registryTimeoutMs(options.env);
    // A half-set env pair is a mistake worth stopping for, even where no credentials are needed.
    envCredentials(options.env);
  }

  /**
   * A request to the registry API; answers one auth challenge, then fails clearly on 401/403.
   * `budget` shares the tries with a larger request (a download, an upload session).
   */
  async request(
    target: RequestTarget,
    init: RequestInit = {},
    budget?: RetryBudget,
  ): Promise<Response> {
    const resolve = (path: string) => (path.startsWith("http") ? path : `${this.baseUrl}${path}`);
    const send = () =>
      requestWithRetry(
        typeof target === "string" ? resolve(target) : async () => resolve(await target()),
        {
          ...init,
          authorization: () => this.authorization,
          subject: this.subject,
          registry: this.registry,
          timeoutMs: this.timeoutMs,
          ...(budget ? { budget } : {}),
        },
      );
    let response = await send();
    if (response.status === 401) {
      await response.body?.cancel();
      this.credentials ??= findCredentials(this.registry, this.env);
      const answer = await answerChallenge(response.headers.get("www-authenticate"), {
        registry: this.registry,
        subject: this.subject,
        credentials: await this.credentials,
        scope: `repository:${this.repository}:${this.actions}`,
        timeoutMs: this.timeoutMs,
      });
      if (answer) {
        this.authorization = answer;
        response = await send();
      }
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw this.accessError(response.status, await this.credentials);
    }
    return response;
  }

  private accessError(status: number, credentials: Credentials | undefined): DstreamError {
    const action = this.actions === "pull" ? "pull" : "push";
    if (status === 403) {
      return new DstreamError(
        "REGISTRY",
        `registry ${this.registry} denied ${action} access to ${this.subject} (403 Forbidden): check that these credentials may ${action} ${this.repository}`,
      );
    }
    const message = !credentials
      ? `registry ${this.registry} needs credentials for ${this.subject} (401 Unauthorized): log in with docker login ${this.registry}, or set ${envPair}`
      : credentials.source === envPair
        ? `registry ${this.registry} rejected the credentials for ${this.subject} (401 Unauthorized): check ${envPair}`
        : `registry ${this.registry} rejected the credentials for ${this.subject} from ${credentials.source} (401 Unauthorized): docker login ${this.registry} again (a docker config entry wins over ${envPair})`;
    return new DstreamError("REGISTRY", message);
  }

  /** A failed answer about `what` ("the manifest of <ref>"); retryable ones came after every retry. */
  private statusError(
    response: Response,
    what: string,
    notFound?: string | DstreamError,
  ): DstreamError {
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    if (response.status === 404) {
      if (notFound instanceof DstreamError) return notFound;
      return new DstreamError(
        "REGISTRY",
        notFound ??
          `${what} was not found in registry ${this.registry} (404): check the repository name and the tag or digest`,
      );
    }
    if (response.status === 429) {
      return new DstreamError(
        "REGISTRY",
        `registry ${this.registry} kept refusing ${what} with ${status} after ${ATTEMPTS} attempts: it is rate-limiting; wait a few minutes and try again (logged-in clients usually get higher limits: docker login ${this.registry})`,
      );
    }
    if (isRetryableStatus(response.status)) {
      return new DstreamError(
        "REGISTRY",
        `registry ${this.registry} kept failing on ${what} with ${status} after ${ATTEMPTS} attempts: the registry (or a proxy in front of it) is in trouble; try again later`,
      );
    }
    return new DstreamError("REGISTRY", `registry ${this.registry} answered ${status} for ${what}`);
  }

  /** Reads a whole (small) body; a body cut off or stalled is a one-line error. */
  private async bodyBytes(response: Response, what: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new DstreamError(
        "REGISTRY",
        `${what} broke off while downloading: ${messageOf(error)} (try again)`,
        { cause: error },
      );
    }
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
    const what = `the manifest of ${this.subject}`;
    const response = await this.request(`/v2/${this.repository}/manifests/${tagOrDigest}`, {
      headers: { accept: manifestAccept },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw this.statusError(response, what);
    }
    const bytes = await this.bodyBytes(response, what);
    const digest = digestOf(bytes, pinned ? algorithmOf(pinned) : "sha256");
    if (pinned && digest !== pinned) {
      throw new DstreamError(
        "DIGEST_MISMATCH",
        `${what} does not match its digest: expected ${pinned}, got ${digest}`,
      );
    }
    const mediaType = response.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
    return { bytes, mediaType, digest };
  }

  /**
   * Opens a blob for streaming (idle time bounded); the caller verifies its digest. `notFound`
   * replaces the generic 404 error when the caller knows better (a digest the lock file pins);
   * `budget` holds the tries of a download that reopens the blob when its body broke off.
   */
  async openBlob(
    digest: string,
    options: { notFound?: DstreamError; budget?: RetryBudget } = {},
  ): Promise<Response> {
    const what = `the blob ${digest} of ${this.subject}`;
    const { budget } = options;
    let response = await this.request(
      `/v2/${this.repository}/blobs/${digest}`,
      { redirect: "manual" },
      budget,
    );
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      // Blob storage (a CDN, S3) gets no registry credentials: they are not meant for it.
      await response.body?.cancel();
      response = await requestWithRetry(new URL(location, this.baseUrl).toString(), {
        subject: this.subject,
        registry: this.registry,
        timeoutMs: this.timeoutMs,
        ...(budget ? { budget } : {}),
      });
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw this.statusError(response, what, options.notFound);
    }
    return response;
  }

  async fetchSmallBlob(digest: string): Promise<Uint8Array> {
    checkDigest(digest, `a blob of ${this.subject}`);
    const what = `the blob ${digest} of ${this.subject}`;
    const bytes = await this.bodyBytes(await this.openBlob(digest), what);
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
    await response.body?.cancel();
    return response.ok;
  }

  /** Opens an upload session (POST); answers the URL its one PUT goes to. */
  private async startUpload(digest: string, budget: RetryBudget): Promise<string> {
    const started = await this.request(
      `/v2/${this.repository}/blobs/uploads/`,
      { method: "POST" },
      budget,
    );
    await started.body?.cancel();
    const location = started.headers.get("location");
    if (started.status !== 202 || !location) {
      throw this.statusError(
        started,
        `the upload of blob ${digest} of ${this.subject}`,
        `registry ${this.registry} has no repository ${this.repository} to push ${this.subject} into (404): check the name, or create the repository (or its project) in the registry first`,
      );
    }
    const target = new URL(location, this.baseUrl);
    target.searchParams.set("digest", digest);
    return target.toString();
  }

  /**
   * Uploads a blob monolithically (POST then PUT), unless the registry has it already. A retry opens a
   * new session: a session's URL is spent once a PUT reached it, even one that failed on the way back.
   * The sessions' POSTs and the PUTs share one budget of failed tries.
   */
  async pushBlob(digest: string, body: Blob): Promise<void> {
    if (await this.hasBlob(digest)) return;
    const budget = new RetryBudget();
    const finished = await this.request(
      () => this.startUpload(digest, budget),
      { method: "PUT", headers: { "content-type": "application/octet-stream" }, body },
      budget,
    );
    await finished.body?.cancel();
    if (finished.status !== 201) {
      throw this.statusError(
        finished,
        `the upload of blob ${digest} of ${this.subject}`,
        `registry ${this.registry} lost the upload session of blob ${digest} for ${this.subject} (404 on its upload URL): it expired, or another instance of the registry answered; push again`,
      );
    }
  }

  async pushManifest(tagOrDigest: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const response = await this.request(`/v2/${this.repository}/manifests/${tagOrDigest}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: bytes,
    });
    if (response.status !== 201) {
      if (isRetryableStatus(response.status)) {
        await response.body?.cancel();
        throw this.statusError(response, `the manifest ${tagOrDigest} of ${this.subject}`);
      }
      const detail = (await response.text()).trim().slice(0, 300);
      throw new DstreamError(
        "REGISTRY",
        `registry ${this.registry} refused the manifest ${tagOrDigest} of ${this.subject} (${response.status}): ${detail}`,
      );
    }
    await response.body?.cancel();
  }
}
