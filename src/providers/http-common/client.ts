// One HTTP exchange on Bun's fetch, done the way a good client does it: a User-Agent, a deadline
// over headers and body, a request rate, retries (Retry-After, backoff with jitter), redirects that
// never carry credentials to another origin, and one-line errors without secrets.
import { errorCode } from "../../errors.ts";
import { versionInfo } from "../../version.ts";
import {
  backoffDelayMs,
  isRetryableStatus,
  isThrottle,
  MAX_RETRY_AFTER_MS,
  type RetryPolicy,
  retryAfterMs,
} from "./retry.ts";
import type { Secrets } from "./secrets.ts";

export interface HttpClientOptions extends RetryPolicy {
  /** The whole exchange (connect, headers, body) must end within this. */
  timeoutMs: number;
  /** Requests started per second at most; 0 = no limit. */
  rateLimit: number;
  secrets: Secrets;
  /** Which provider asks: named in the User-Agent. */
  provider: string;
  /** The configured URL's origin: the only one credential headers (token, cookies) are sent to. */
  credentialOrigin: string;
  /** The provider's stop: waits end early and the request in flight is abandoned. */
  signal: AbortSignal;
  sleep(ms: number): Promise<void>;
  log(message: string): void;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  /** Where the answer came from, after redirects. */
  url: URL;
  body: Uint8Array;
}

/** A failure the user has to act on: its message is one line, already free of secrets. */
export class HttpError extends Error {
  override readonly name = "HttpError";
}

const MAX_REDIRECTS = 10;
/** A response body larger than this fails the request instead of filling memory. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const SNIPPET_BYTES = 200;
const decoder = new TextDecoder();

export function userAgent(provider: string): string {
  return `dstream/${versionInfo().version} (${provider})`;
}

/** The first 200 bytes of a body on one line, for an error message. */
export function bodySnippet(body: Uint8Array): string {
  const text = decoder.decode(body.subarray(0, SNIPPET_BYTES)).replace(/\s+/g, " ").trim();
  if (text === "") return "(empty body)";
  return body.length > SNIPPET_BYTES ? `${text}...` : text;
}

/** A network-level failure in a few words (Bun names them by code). */
function describeNetworkError(error: unknown, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no complete response within ${timeoutMs} ms (timeout)`;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : undefined;
  const known: Record<string, string> = {
    ConnectionRefused: "connection refused",
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset by the server",
    ConnectionClosed: "the server closed the connection before the response was complete",
    FailedToOpenSocket: "cannot open a connection",
  };
  const said = (code && known[code]) ?? message?.split("\n")[0] ?? String(error);
  return code && !said.includes(code) ? `${said} (${code})` : said;
}

function isCertificateError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}

function isRedirect(status: number): boolean {
  return [301, 302, 303, 307, 308].includes(status);
}

export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #userAgent: string;
  #nextStartAt = 0;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#userAgent = userAgent(options.provider);
  }

  /** `method url` as shown in messages. */
  describe(request: HttpRequest): string {
    return `${request.method} ${this.#options.secrets.url(request.url)}`;
  }

  /**
   * Sends the request until it gets a 2xx or 304 (returned), a failure that retrying cannot fix
   * (thrown HttpError), or the provider is stopped (undefined).
   */
  async send(request: HttpRequest): Promise<HttpAnswer | undefined> {
    const { maxRetries, secrets, signal } = this.#options;
    for (let attempt = 1; ; attempt++) {
      if (!(await this.#waitForRate())) return undefined;
      let problem: string;
      let waitMs: number | undefined;
      try {
        const answer = await this.#exchange(request);
        if (answer === undefined) return undefined;
        if ((answer.status >= 200 && answer.status < 300) || answer.status === 304) return answer;
        const status = `${answer.status} ${answer.statusText}`.trim();
        if (!isRetryableStatus(answer.status)) {
          const hint = answer.status === 401 || answer.status === 403 ? " (check auth_token)" : "";
          throw new HttpError(
            secrets.scrub(
              `${this.describe(request)}: ${status}${hint}: ${bodySnippet(answer.body)}`,
            ),
          );
        }
        problem = `${status}: ${bodySnippet(answer.body)}`;
        if (isThrottle(answer.status)) waitMs = retryAfterMs(answer.headers.get("retry-after"));
        if (waitMs !== undefined && waitMs > MAX_RETRY_AFTER_MS) {
          throw new HttpError(
            secrets.scrub(
              `${this.describe(request)}: ${status} asks to retry after ${Math.round(waitMs / 1000)} s (more than ${MAX_RETRY_AFTER_MS / 1000} s); lower rate_limit or try later`,
            ),
          );
        }
      } catch (error) {
        if (error instanceof HttpError) throw new HttpError(secrets.scrub(error.message));
        if (signal.aborted) return undefined;
        problem = (error as { dstreamProblem?: string }).dstreamProblem ?? String(error);
      }
      if (attempt > maxRetries) {
        const attempts = attempt === 1 ? "" : ` (after ${attempt} attempts)`;
        throw new HttpError(secrets.scrub(`${this.describe(request)}: ${problem}${attempts}`));
      }
      const delay = waitMs ?? backoffDelayMs(this.#options, attempt);
      const why = waitMs === undefined ? "" : " as Retry-After asks";
      this.#options.log(
        secrets.scrub(
          `${this.describe(request)}: ${problem}; retry ${attempt} of ${maxRetries} in ${(delay / 1000).toFixed(1)} s${why}`,
        ),
      );
      await this.#options.sleep(delay);
      if (signal.aborted) return undefined;
    }
  }

  /** Waits for the next request slot under rate_limit; false when stopped meanwhile. */
  async #waitForRate(): Promise<boolean> {
    const { rateLimit, signal } = this.#options;
    if (rateLimit <= 0) return !signal.aborted;
    const now = performance.now();
    const startAt = Math.max(now, this.#nextStartAt);
    this.#nextStartAt = startAt + 1000 / rateLimit;
    if (startAt > now) await this.#options.sleep(startAt - now);
    return !signal.aborted;
  }

  /** One attempt, redirects followed; network failures are thrown with a `dstreamProblem`. */
  async #exchange(request: HttpRequest): Promise<HttpAnswer | undefined> {
    const { timeoutMs, signal } = this.#options;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const both = AbortSignal.any([signal, timeout.signal]);
    try {
      return await this.#follow(request, both);
    } catch (error) {
      if (signal.aborted) return undefined;
      if (error instanceof HttpError) throw error;
      const problem = describeNetworkError(error, timeoutMs, timeout.signal.aborted);
      // An untrusted certificate does not fix itself: no retries, and the fix.
      if (isCertificateError(error)) {
        throw new HttpError(
          `${this.describe(request)}: ${problem}: the server's certificate is not trusted (add its CA with NODE_EXTRA_CA_CERTS=<file>)`,
        );
      }
      throw Object.assign(new Error(problem, { cause: error }), { dstreamProblem: problem });
    } finally {
      clearTimeout(timer);
    }
  }

  async #follow(first: HttpRequest, signal: AbortSignal): Promise<HttpAnswer> {
    let request = first;
    for (let hop = 0; ; hop++) {
      const headers = forOrigin(request.headers, request.url, this.#options.credentialOrigin);
      const response = await fetch(request.url, {
        method: request.method,
        headers: { "user-agent": this.#userAgent, ...headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        redirect: "manual",
        signal,
      });
      const location = response.headers.get("location");
      if (!isRedirect(response.status) || location === null) {
        return {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
          url: request.url,
          body: await readBounded(response, () => this.describe(first)),
        };
      }
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new HttpError(
          this.#options.secrets.scrub(
            `${this.describe(first)}: more than ${MAX_REDIRECTS} redirects (last to ${this.#options.secrets.url(new URL(location, request.url))})`,
          ),
        );
      }
      request = redirected(request, response.status, new URL(location, request.url));
    }
  }
}

const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/** Credential headers go to the configured URL's origin only (a redirect or next link elsewhere gets none). */
function forOrigin(
  headers: Record<string, string>,
  url: URL,
  origin: string,
): Record<string, string> {
  if (url.origin === origin) return headers;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.includes(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

/** The request a redirect asks for: 303 (and 301/302 after a POST) become a GET without a body. */
function redirected(request: HttpRequest, status: number, to: URL): HttpRequest {
  const toGet = status === 303 || ((status === 301 || status === 302) && request.method === "POST");
  const headers = { ...request.headers };
  if (toGet) {
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase().startsWith("content-")) delete headers[name];
    }
    return { method: "GET", url: to, headers };
  }
  return { ...request, url: to, headers };
}

async function readBounded(response: Response, describe: () => string): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > MAX_RESPONSE_BYTES) {
      await response.body.cancel().catch(() => {});
      throw new HttpError(`${describe()}: response larger than ${MAX_RESPONSE_BYTES >> 20} MiB`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}
