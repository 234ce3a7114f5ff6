// HTTP to a registry: scheme choice (HTTPS except loopback and DSTREAM_INSECURE_REGISTRIES),
// bounded timeouts, and retries with backoff on 429, 5xx and dropped connections.
import { DstreamError, messageOf } from "../errors.ts";

export type Env = Record<string, string | undefined>;

const retryStatuses = new Set([429, 500, 502, 503, 504]);
const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 200;
const MAX_RETRY_AFTER_MS = 10_000;
/** Until the response headers arrive; a body is bounded separately by its idle time. */
const HEADERS_TIMEOUT_MS = 30_000;

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
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryDelay(attempt: number, response?: Response): number {
  const header = response?.headers.get("retry-after");
  const seconds = header ? Number(header) : Number.NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  return FIRST_BACKOFF_MS * 2 ** attempt + Math.random() * 100;
}

const tlsFailure = /^(EPROTO|ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/;

function unreachable(url: string, options: RequestOptions, error: unknown): DstreamError {
  const code = (error as { code?: string } | undefined)?.code;
  const reason = code === "ECONNREFUSED" ? "connection refused" : (code ?? messageOf(error));
  const hint =
    url.startsWith("https:") && code && tlsFailure.test(code)
      ? `the HTTPS handshake failed; if the registry serves plain HTTP, list ${options.registry} in DSTREAM_INSECURE_REGISTRIES`
      : "check the address and that the registry is up";
  return new DstreamError(
    "REGISTRY",
    `cannot reach registry ${options.registry} for ${options.subject}: ${reason} (${hint}; dstream tried ${ATTEMPTS} times)`,
    { cause: error },
  );
}

/** fetch() with retries; answers every response that is not worth retrying, errors included. */
export async function requestWithRetry(url: string, options: RequestOptions): Promise<Response> {
  const { subject: _subject, registry: _registry, ...init } = options;
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(url, {
        ...init,
        signal: init.signal ?? AbortSignal.timeout(HEADERS_TIMEOUT_MS),
      });
    } catch (error) {
      lastError = error;
    }
    if (response && !retryStatuses.has(response.status)) return response;
    if (attempt === ATTEMPTS - 1) {
      if (response) return response;
      break;
    }
    await response?.body?.cancel();
    await sleep(retryDelay(attempt, response));
  }
  throw unreachable(url, options, lastError);
}
