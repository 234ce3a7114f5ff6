// HTTP to a registry: scheme choice (HTTPS except loopback and DSTREAM_INSECURE_REGISTRIES), waits
// bounded by progress (DSTREAM_REGISTRY_TIMEOUT), and tries under the retry policy (retry.ts).
import { DstreamError, errorCode, messageOf } from "../../errors.ts";
import {
  downloadBody,
  formatSeconds,
  ProgressTimeout,
  RegistryTimeout,
  uploadBody,
} from "./progress-timeout.ts";
import { isCertificateError, isRetryableError, isRetryableStatus, RetryBudget } from "./retry.ts";

export type Env = Record<string, string | undefined>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** The wait for an answer, and for each byte of a body: DSTREAM_REGISTRY_TIMEOUT seconds, else 30. */
export function registryTimeoutMs(env: Env): number {
  const text = env.DSTREAM_REGISTRY_TIMEOUT;
  if (text === undefined || text.trim() === "") return DEFAULT_TIMEOUT_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new DstreamError(
      "USAGE",
      `DSTREAM_REGISTRY_TIMEOUT="${text}" is not a number of seconds above 0 (for example 30 or 2.5)`,
    );
  }
  return seconds * 1000;
}

/** The host dstream connects to: Docker Hub's API lives on registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

function hostName(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon === -1 ? registry : registry.slice(0, colon);
}

export function isLoopback(registry: string): boolean {
  const name = hostName(registry);
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function registryBaseUrl(registry: string, env: Env): string {
  const insecure = (env.DSTREAM_INSECURE_REGISTRIES ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const plain = isLoopback(registry) || insecure.includes(registry);
  return `${plain ? "http" : "https"}://${apiHost(registry)}`;
}

export interface RequestOptions extends RequestInit {
  /** Names the reference in errors, e.g. "127.0.0.1:5000/acme/counter:v1". */
  subject: string;
  registry: string;
  /** From registryTimeoutMs. */
  timeoutMs: number;
  /** Asked again for each attempt: a retry may carry a newer token. */
  authorization?: () => string | undefined;
  /** The request's tries, when it is part of a larger one (a download, an upload session). */
  budget?: RetryBudget;
}

/** A URL, or how to get a fresh one for each attempt (an upload session is good for one PUT). */
export type RequestTarget = string | (() => Promise<string>);

/** What to do about a certificate the registry's HTTPS was refused for, by Bun's code. */
function certificateHint(code: string, registry: string): string {
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return `the certificate of registry ${registry} is outside its validity dates: the registry must renew it (or this machine's clock is wrong)`;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    return `the certificate of registry ${registry} is not issued for that name: use the name it was issued for`;
  }
  return `the certificate of registry ${registry} is not signed by a CA dstream trusts: add that CA with NODE_EXTRA_CA_CERTS=<file.pem>`;
}

/** The fix for a failure to reach a registry, by the error's code. */
function unreachableHint(url: string, registry: string, error: unknown): string {
  const name = errorCode(error);
  if (name !== undefined && isCertificateError(error)) return certificateHint(name, registry);
  if (url.startsWith("https:") && name !== undefined && /^(EPROTO|ERR_TLS|ERR_SSL)/.test(name)) {
    return `the HTTPS handshake failed; if the registry serves plain HTTP, list ${registry} in DSTREAM_INSECURE_REGISTRIES`;
  }
  return "check the address and that the registry is up";
}

function unreachable(
  url: string,
  options: RequestOptions,
  error: unknown,
  attempts: number,
): DstreamError {
  const tried = `dstream tried ${attempts} time${attempts === 1 ? "" : "s"}`;
  if (error instanceof RegistryTimeout) {
    const retry = `raise DSTREAM_REGISTRY_TIMEOUT from ${formatSeconds(options.timeoutMs)}; ${tried}`;
    const message =
      error.waiting === "upload"
        ? `the upload of ${options.subject} to registry ${options.registry} made no progress for ${formatSeconds(options.timeoutMs)} (check the network, or ${retry})`
        : `${error.message} for ${options.subject} (check that the registry is up and not overloaded, or ${retry})`;
    return new DstreamError("REGISTRY", message, { cause: error });
  }
  const name = errorCode(error);
  const reason = name === "ECONNREFUSED" ? "connection refused" : (name ?? messageOf(error));
  const hint = unreachableHint(url, options.registry, error);
  return new DstreamError(
    "REGISTRY",
    `cannot reach registry ${options.registry} for ${options.subject}: ${reason} (${hint}; ${tried})`,
    { cause: error },
  );
}

/** One attempt; every wait on the registry, bodies included, is bounded by options.timeoutMs. */
async function attempt(url: string, options: RequestOptions): Promise<Response> {
  const { subject: _s, registry, timeoutMs, authorization, budget: _b, signal, ...init } = options;
  const controller = new AbortController();
  const timeout = new ProgressTimeout(registry, timeoutMs, controller);
  const headers = new Headers(init.headers);
  const token = authorization?.();
  if (token) headers.set("authorization", token);
  let body = init.body;
  if (body instanceof Blob) {
    // Streamed so that its progress is seen; the length is sent as for the Blob itself.
    headers.set("content-length", String(body.size));
    body = uploadBody(body, timeout);
  }
  timeout.arm("answer");
  try {
    const response = await fetch(url, {
      ...init,
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    });
    return downloadBody(response, timeout);
  } catch (error) {
    timeout.disarm();
    throw error;
  }
}

/** fetch() with retries; answers every response that is not worth retrying, errors included. */
export async function requestWithRetry(
  target: RequestTarget,
  options: RequestOptions,
): Promise<Response> {
  const budget = options.budget ?? new RetryBudget();
  let lastError: unknown;
  let url = typeof target === "string" ? target : "";
  for (;;) {
    if (typeof target !== "string") url = await target();
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await attempt(url, options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (!isRetryableError(error)) throw unreachable(url, options, error, budget.tries + 1);
      lastError = failure = error;
    }
    if (response && !isRetryableStatus(response.status)) return response;
    if (!budget.allowsRetry(failure)) {
      if (response) return response;
      throw unreachable(url, options, lastError, budget.tries);
    }
    await response?.body?.cancel();
    await budget.pause(response);
  }
}
