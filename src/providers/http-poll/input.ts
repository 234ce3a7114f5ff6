// http-poll input: polls a JSON API, page after page, every poll_interval; each record becomes an
// event, and its checkpoint is the sequence, the highest cursor_field value, and the page it is on.
import { Checkpoint, defineInput, type InputItem, type ProviderContext } from "../../sdk/index.ts";
import { parseKeepingNumbers } from "../../sdk/json-text.ts";
import {
  bodySnippet,
  type HttpAnswer,
  HttpClient,
  HttpError,
  type HttpRequest,
} from "../http-common/client.ts";
import { Secrets } from "../http-common/secrets.ts";
import { type Target, targetOf } from "../http-common/settings.ts";
import { CursorTracker } from "./cursor-tracker.ts";
import { cursorFieldParam, firstPage, nextPage, paginationStyle } from "./pagination.ts";
import {
  type HttpPollPosition,
  type PagePosition,
  parsePosition,
  restoredUrl,
  storedUrl,
  type Validator,
} from "./position.ts";
import { recordsOf } from "./records.ts";
import { type HttpPollConfig, httpPollConfigSchema } from "./schema.ts";

export { httpPollConfigSchema };

type Context = ProviderContext<HttpPollConfig>;

const decoder = new TextDecoder();

export function secretsOf(config: HttpPollConfig): Secrets {
  return Secrets.of({
    auth_token: config.auth_token,
    urls: [config.endpoint],
    headers: config.headers,
    query: config.query,
  });
}

/** The body as JSON; HTML or other text where JSON was expected is a one-line error. */
function parseBody(answer: HttpAnswer, where: string, text = decoder.decode(answer.body)): unknown {
  if (answer.status === 204 || answer.body.length === 0) return null;
  const type = answer.headers.get("content-type") ?? "";
  const html = /html/i.test(type) || /^\s*</.test(text);
  if (!html) {
    try {
      return JSON.parse(text);
    } catch {}
  }
  const got = type === "" ? "no content-type" : type.split(";")[0];
  throw new HttpError(`${where}: expected JSON, got ${got}: ${bodySnippet(answer.body)}`);
}

class Poller {
  readonly #client: HttpClient;
  readonly #secrets: Secrets;
  readonly #target: Target;
  readonly #body: string | undefined;

  constructor(
    private readonly config: HttpPollConfig,
    private readonly context: Context,
    private position: HttpPollPosition,
  ) {
    this.#secrets = secretsOf(config);
    this.#target = targetOf(config.endpoint, config);
    if (config.body !== undefined) {
      const isText = typeof config.body === "string";
      this.#body = isText ? (config.body as string) : JSON.stringify(config.body);
      if (!isText) this.#target.headers["content-type"] ??= "application/json";
    }
    this.#target.headers.accept ??= "application/json";
    this.#client = new HttpClient({
      timeoutMs: config.timeout,
      maxRetries: config.max_retries,
      backoffMs: config.retry_backoff,
      maxBackoffMs: config.max_backoff,
      rateLimit: config.rate_limit,
      secrets: this.#secrets,
      provider: "http-poll",
      credentialOrigin: this.#target.url.origin,
      signal: context.signal,
      sleep: context.sleep,
      log: context.log,
    });
  }

  /** A copy of the position (it moves on after this event); built field by field, once per event. */
  #snapshot(page?: PagePosition): HttpPollPosition {
    const { cursor, validator } = this.position;
    const snapshot: HttpPollPosition = { sequence: this.position.sequence };
    if (cursor !== undefined) {
      snapshot.cursor = cursor;
      snapshot.seen = this.position.seen ?? [];
    }
    if (page) snapshot.page = page;
    if (validator) snapshot.validator = validator;
    return snapshot;
  }

  async *pass(): AsyncGenerator<InputItem> {
    const { config, context } = this;
    const incremental = config.cursor_field !== "";
    const cursor = this.position.cursor === undefined ? undefined : String(this.position.cursor);
    const first = firstPage(config, this.#target.url, incremental ? cursor : undefined);
    const resumed = incremental ? undefined : this.position.page;
    let url: URL | undefined = resumed ? restoredUrl(resumed.url, first) : first;
    let number = resumed?.number ?? 1;
    let skip = resumed?.skip ?? 0;
    let validator: Validator | undefined;
    let notModified = false;
    let previousBody: bigint | number | undefined;
    const visited = new Set<string>();
    const tracker = incremental
      ? new CursorTracker(config.cursor_field, this.position, context.log)
      : undefined;
    // The next page is asked for while this one's records go out: one request ahead, never more.
    let inFlight = url ? this.#fetch(this.#request(url, first)) : undefined;
    while (url && inFlight && !context.signal.aborted) {
      visited.add(url.href);
      const { request, answer: answered } = inFlight;
      const where = this.#client.describe(request);
      const answer = await answered;
      if (!answer) return;
      if (answer.status === 304) {
        notModified = true;
        break;
      }
      const fetchedAt = new Date().toISOString();
      const text = decoder.decode(answer.body);
      const body = parseBody(answer, where, text);
      if (url.href === first.href) validator = this.#validatorOf(answer, url);
      const records = this.#records(body, where);
      // What goes out: the same records, with any number a double would round kept as written.
      const exact = parseKeepingNumbers(text);
      const sent = exact === undefined ? records : this.#records(exact, where);
      const fingerprint = Bun.hash(answer.body);
      if (records.length > 0 && fingerprint === previousBody) {
        throw new HttpError(
          `${where}: page ${number} holds the same records as page ${number - 1} (does the API take ${paginationStyle(config)} pagination as configured?)`,
        );
      }
      previousBody = fingerprint;
      const next = this.#next(body, answer, url, records.length, where);
      const loops = next !== undefined && visited.has(next.href);
      inFlight = next && !loops ? this.#fetch(this.#request(next, first)) : undefined;
      const shownUrl = this.#secrets.url(url);
      const pageUrl = storedUrl(url, this.#secrets);
      for (let index = skip; index < records.length; index++) {
        const record = records[index];
        if (tracker && !tracker.accept(record)) continue;
        this.position.sequence++;
        yield {
          data: sent[index],
          metadata: {
            url: shownUrl,
            status: answer.status,
            page: number,
            fetched_at: fetchedAt,
            sequence: this.position.sequence,
          },
          checkpoint: this.#snapshot(
            incremental ? undefined : { url: pageUrl, number, skip: index + 1 },
          ),
        };
      }
      if (next && loops) {
        throw new HttpError(`${where}: pagination loops back to ${this.#secrets.url(next)}`);
      }
      url = next;
      number++;
      skip = 0;
      if (url && !incremental) {
        yield new Checkpoint(
          this.#snapshot({ url: storedUrl(url, this.#secrets), number, skip: 0 }),
        );
      }
    }
    if (context.signal.aborted) return;
    // The pass is complete: only now may its first page's validator skip an unchanged next pass.
    if (!notModified) this.position.validator = validator;
    this.position.page = undefined;
    yield new Checkpoint(this.#snapshot());
  }

  /** A page's request; the pass's first page carries the last completed pass's validator. */
  #request(url: URL, first: URL): HttpRequest {
    const headers = { ...this.#target.headers };
    const known = this.position.validator;
    const conditional = url.href === first.href && known?.url === storedUrl(url, this.#secrets);
    if (conditional && known?.etag) headers["if-none-match"] = known.etag;
    if (conditional && known?.last_modified) headers["if-modified-since"] = known.last_modified;
    return {
      method: this.config.method,
      url,
      headers,
      ...(this.#body !== undefined ? { body: this.#body } : {}),
    };
  }

  /** Sends a request now; its failure is seen where the answer is awaited (or never, after a stop). */
  #fetch(request: HttpRequest): { request: HttpRequest; answer: Promise<HttpAnswer | undefined> } {
    const answer = this.#client.send(request);
    answer.catch(() => {});
    return { request, answer };
  }

  #validatorOf(answer: HttpAnswer, url: URL): Validator | undefined {
    const etag = answer.headers.get("etag");
    const lastModified = answer.headers.get("last-modified");
    if (!etag && !lastModified) return undefined;
    return {
      url: storedUrl(url, this.#secrets),
      ...(etag ? { etag } : {}),
      ...(lastModified ? { last_modified: lastModified } : {}),
    };
  }

  #records(body: unknown, where: string): unknown[] {
    try {
      return recordsOf(body, this.config.records);
    } catch (error) {
      throw new HttpError(`${where}: ${(error as Error).message}`);
    }
  }

  /** The first page, once: what dstream status reports. */
  async probe(): Promise<string> {
    const url = firstPage(this.config, this.#target.url, undefined);
    const request = {
      method: this.config.method,
      url,
      headers: this.#target.headers,
      ...(this.#body !== undefined ? { body: this.#body } : {}),
    };
    const where = this.#client.describe(request);
    const answer = await this.#client.send(request);
    if (!answer) return `${where}: stopped before an answer`;
    const records = this.#records(parseBody(answer, where), where);
    const status = `${answer.status} ${answer.statusText}`.trim();
    return `${where}: ${status}, ${records.length} records on the first page`;
  }

  #next(body: unknown, answer: HttpAnswer, url: URL, recordCount: number, where: string) {
    try {
      return nextPage(this.config, { url, headers: answer.headers, body, recordCount });
    } catch (error) {
      throw new HttpError(`${where}: ${(error as Error).message}`);
    }
  }
}

export const httpPollInput = defineInput({
  schema: httpPollConfigSchema,
  async *run(config, context) {
    const poller = new Poller(config, context, parsePosition(context.checkpoint));
    const secrets = secretsOf(config);
    try {
      for (;;) {
        yield* poller.pass();
        if (config.poll_interval === 0 || context.signal.aborted) return;
        await context.sleep(config.poll_interval);
        if (context.signal.aborted) return;
      }
    } catch (error) {
      // Every message leaves here scrubbed: a body may echo a token back.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(secrets.scrub(message));
    }
  },
  async status(config, context) {
    try {
      return { message: await new Poller(config, context, { sequence: 0 }).probe() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: "Failed", message: secretsOf(config).scrub(message) };
    }
  },
  plan(config) {
    const secrets = secretsOf(config);
    const url = secrets.url(firstPage(config, targetOf(config.endpoint, config).url, undefined));
    const every = config.poll_interval === 0 ? "once" : `every ${config.poll_interval} ms`;
    const incremental = config.cursor_field
      ? `, incremental on "${config.cursor_field}" (sent as ${cursorFieldParam(config)})`
      : "";
    return {
      message: `would poll ${config.method} ${url} ${every}, ${paginationStyle(config)} pagination${incremental}`,
      resources: [{ type: "http-endpoint", url }],
    };
  },
});
