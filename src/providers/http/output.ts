// http output: sends events as NDJSON or JSON-array requests, sequentially; a batch's write ends
// (and the checkpoints after it may be acknowledged) only once every request of it got a 2xx.
import { type Batch, defineOutput, type ProviderContext } from "../../sdk/index.ts";
import { HttpClient } from "../http-common/client.ts";
import { Secrets } from "../http-common/secrets.ts";
import { targetOf } from "../http-common/settings.ts";
import { idempotencyKey } from "./idempotency.ts";
import { type HttpOutputConfig, httpOutputConfigSchema, MAX_BATCH_EVENTS } from "./schema.ts";

export { httpOutputConfigSchema };

type Context = ProviderContext<HttpOutputConfig>;

const OPEN = Uint8Array.of(0x5b);
const COMMA = Uint8Array.of(0x2c);
const CLOSE = Uint8Array.of(0x5d);
const NEWLINE = Uint8Array.of(10);

export function secretsOf(config: HttpOutputConfig): Secrets {
  return Secrets.of({ auth_token: config.auth_token, urls: [config.url], headers: config.headers });
}

/** The request body of lines [from, to): NDJSON lines or one JSON array, no line parsed. */
export function bodyOf(
  lines: readonly Uint8Array[],
  format: HttpOutputConfig["format"],
): Uint8Array {
  const parts: Uint8Array[] = [];
  if (format === "json") parts.push(OPEN);
  lines.forEach((line, index) => {
    if (format === "json" && index > 0) parts.push(COMMA);
    parts.push(line);
    if (format === "ndjson") parts.push(NEWLINE);
  });
  if (format === "json") parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** Cuts a batch into requests of at most `batch` events and `batch_bytes` bytes. */
export function requestsOf(
  lines: readonly Uint8Array[],
  config: HttpOutputConfig,
): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let index = 0; index < lines.length; index++) {
    const size = (lines[index]?.length ?? 0) + 1;
    const full =
      index - start >= config.batch || (index > start && bytes + size > config.batch_bytes);
    if (full) {
      ranges.push([start, index]);
      start = index;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < lines.length) ranges.push([start, lines.length]);
  return ranges;
}

function openSink(context: Context) {
  const { config } = context;
  const target = targetOf(config.url, config);
  target.headers["content-type"] ??=
    config.format === "json" ? "application/json" : "application/x-ndjson";
  const client = new HttpClient({
    timeoutMs: config.timeout,
    maxRetries: config.max_retries,
    backoffMs: config.retry_backoff,
    maxBackoffMs: config.max_backoff,
    rateLimit: config.rate_limit,
    secrets: secretsOf(config),
    provider: "http",
    credentialOrigin: target.url.origin,
    signal: new AbortController().signal, // a stop lets the last requests finish (bounded by timeout and retries)
    sleep: (ms) => Bun.sleep(ms),
    log: context.log,
  });
  let requests = 0;
  let events = 0;
  let failed = false;
  return {
    async write(batch: Batch) {
      for (const [from, to] of requestsOf(batch.lines, config)) {
        const lines = batch.lines.slice(from, to);
        const headers = { ...target.headers };
        if (config.idempotency_header !== "") {
          headers[config.idempotency_header.toLowerCase()] = idempotencyKey(
            batch,
            from,
            to,
            context.task,
          );
        }
        const answer = await client
          .send({
            method: config.method,
            url: target.url,
            headers,
            body: bodyOf(lines, config.format),
          })
          .catch((error: unknown) => {
            failed = true;
            throw error;
          });
        const where = client.describe({ method: config.method, url: target.url, headers });
        if (!answer) throw new Error(`${where}: stopped before an answer`);
        // The client hands back 304 as an answer (a poller's "unchanged"); a receiver must say 2xx.
        if (answer.status === 304) {
          failed = true;
          throw new Error(
            `${where}: 304 Not Modified is not an acceptance (the receiver must answer 2xx)`,
          );
        }
        requests++;
        events += lines.length;
      }
    },
    close() {
      if (!failed) context.log(`sent ${events} events in ${requests} requests`);
    },
  };
}

export const httpOutput = defineOutput({
  schema: httpOutputConfigSchema,
  batch: { maxLines: MAX_BATCH_EVENTS, maxBytes: 16 * 1024 * 1024, maxWaitMs: 0 },
  open: (context) => openSink(context),
  plan(config) {
    const url = secretsOf(config).url(targetOf(config.url, config).url);
    const per =
      config.batch === 1 ? "one request per event" : `up to ${config.batch} events per request`;
    return {
      message: `would ${config.method} ${config.format} to ${url}, ${per}`,
      resources: [{ type: "http-endpoint", url }],
    };
  },
});
