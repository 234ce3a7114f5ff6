// How the kafka providers reach the brokers: client options from the settings, bounded waits, and
// one-line messages for what the client library reports (never a password).
import { readFileSync } from "node:fs";
import { TIMED_OUT, waitAtMost } from "../../bounded-wait.ts";
import { errorCode } from "../../errors.ts";
import { collapseWhitespace } from "../../one-line.ts";
import type { KafkaConnectionConfig } from "./schema.ts";

/** The broker addresses of the settings, as "host:port" (port 9092 when none is given). */
export function brokerList(config: KafkaConnectionConfig): string[] {
  const addresses = Array.isArray(config.bootstrap_servers)
    ? config.bootstrap_servers
    : config.bootstrap_servers.split(",");
  return addresses
    .map((address) => address.trim())
    .filter((address) => address !== "")
    .map((address) => (address.includes(":") ? address : `${address}:9092`));
}

function readPem(setting: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = errorCode(error) ?? "unreadable";
    throw new Error(`kafka: tls.${setting} "${path}" cannot be read (${code})`);
  }
}

function tlsOptions(tls: KafkaConnectionConfig["tls"]): Record<string, unknown> | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  return {
    ...(tls.ca_file ? { ca: readPem("ca_file", tls.ca_file) } : {}),
    ...(tls.cert_file ? { cert: readPem("cert_file", tls.cert_file) } : {}),
    ...(tls.key_file ? { key: readPem("key_file", tls.key_file) } : {}),
    rejectUnauthorized: !tls.insecure_skip_verify,
  };
}

/** The options every client (producer, consumer, admin) is built with. */
export function clientOptions(config: KafkaConnectionConfig) {
  const tls = tlsOptions(config.tls);
  return {
    clientId: config.client_id,
    bootstrapBrokers: brokerList(config),
    connectTimeout: config.connect_timeout_ms,
    requestTimeout: Math.max(30_000, config.connect_timeout_ms),
    // A broker that is away is retried for about connect_timeout_ms, then the run fails. A refused
    // password is not going to change: its retries go at once, so it fails in a second or two.
    retries: Math.max(1, Math.round(config.connect_timeout_ms / 1000)),
    retryDelay: (
      _client: unknown,
      _operation: string,
      _attempt: number,
      _retries: number,
      error: Error,
    ) =>
      isAuthenticationFailure(error) || untrustedCertificate(error) || closedAtOnce(error)
        ? 0
        : 1000,
    // A consumer or a lifecycle command that creates the topics it asks about is a surprise; the
    // output turns this on for its producer.
    autocreateTopics: false,
    // The client's own JSON-schema check of every send's options cost 17% of producing: dstream
    // builds those options itself, from settings valibot already checked.
    strict: false,
    ...(tls ? { tls } : {}),
    ...(config.sasl
      ? {
          sasl: {
            mechanism: config.sasl.mechanism,
            username: config.sasl.username,
            password: config.sasl.password,
          },
        }
      : {}),
  };
}

interface ClientError {
  message?: string;
  code?: string;
  apiId?: string;
  errors?: unknown[];
  cause?: unknown;
}

/** Every error in the tree the client library reports (it nests them in `errors` and `cause`). */
export function errorsIn(error: unknown, found: ClientError[] = []): ClientError[] {
  if (typeof error !== "object" || error === null || found.length > 50) return found;
  const node = error as ClientError;
  found.push(node);
  for (const inner of node.errors ?? []) errorsIn(inner, found);
  if (node.cause) errorsIn(node.cause, found);
  return found;
}

/** The brokers refused the SASL credentials. */
function isAuthenticationFailure(error: unknown): boolean {
  return errorsIn(error).some(
    (node) => node.code === "PLT_KFK_AUTHENTICATION" || node.apiId === "SASL_AUTHENTICATION_FAILED",
  );
}

/** Why the brokers' TLS certificate was refused (Node's verify code), when it was. */
function untrustedCertificate(error: unknown): string | undefined {
  return errorsIn(error).find(
    (node) => typeof node.code === "string" && /CERT|SIGNATURE/.test(node.code),
  )?.code;
}

/**
 * The brokers accepted the connection and closed it on the first request, every time: what a SASL
 * listener does with a client that sends anything but a SASL handshake (and a dying broker once,
 * after which connecting is refused, which this does not match).
 */
export function closedAtOnce(error: unknown): boolean {
  const nodes = errorsIn(error);
  const network = nodes.filter(
    (node) =>
      node.code === "PLT_KFK_NETWORK" ||
      node.code === "PLT_KFK_TIMEOUT" ||
      (typeof node.code === "string" && /^E[A-Z]+$/.test(node.code)),
  );
  return network.length > 0 && network.every((node) => node.message === "Connection closed");
}

/** The broker's error id (UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE...) somewhere in `error`. */
export function protocolErrorId(error: unknown, ids: readonly string[]): string | undefined {
  return errorsIn(error).find((node) => node.apiId && ids.includes(node.apiId))?.apiId;
}

/** The broker (or the client, from the broker's metadata) says a topic does not exist. */
export function isUnknownTopic(error: unknown): boolean {
  return errorsIn(error).some(
    (node) =>
      node.apiId === "UNKNOWN_TOPIC_OR_PARTITION" ||
      (typeof node.message === "string" && node.message.startsWith("Unknown topic ")),
  );
}

/** Why the brokers could not be reached, as the system said it (ECONNREFUSED, a timeout...). */
function networkReason(error: unknown): string | undefined {
  const nodes = errorsIn(error);
  const system = nodes.find((node) => typeof node.code === "string" && /^E[A-Z]+$/.test(node.code));
  if (system?.code) return system.code;
  if (nodes.some((node) => node.code === "PLT_KFK_TIMEOUT")) return "timed out";
  if (nodes.some((node) => node.code === "PLT_KFK_NETWORK")) return "connection failed";
  return undefined;
}

/** A one-line message for a client failure; `doing` says what was being done ("send to ..."). */
export function describeKafkaError(
  error: unknown,
  config: KafkaConnectionConfig,
  doing: string,
): string {
  const brokers = brokerList(config).join(", ");
  const nodes = errorsIn(error);
  if (isAuthenticationFailure(error)) {
    const who = config.sasl ? ` as "${config.sasl.username}" (${config.sasl.mechanism})` : "";
    return `kafka: authentication failed${who} at ${brokers}; check sasl.username and sasl.password`;
  }
  const certificate = untrustedCertificate(error);
  if (certificate) {
    return `kafka: the TLS certificate of ${brokers} is not trusted (${certificate}); set tls.ca_file to the CA that signed it`;
  }
  if (nodes.some((node) => node.apiId === "UNSUPPORTED_SASL_MECHANISM")) {
    return `kafka: the brokers at ${brokers} do not accept SASL mechanism ${config.sasl?.mechanism}; check sasl.mechanism`;
  }
  if (nodes.some((node) => node.apiId === "TOPIC_AUTHORIZATION_FAILED")) {
    return `kafka: not authorized to ${doing}; grant the user access to the topic`;
  }
  if (nodes.some((node) => node.message === "Broker requires TLS.")) {
    return `kafka: the brokers ${brokers} answered in TLS; set tls (true, or tls { ca_file = ... })`;
  }
  if (closedAtOnce(error)) {
    const missing = [config.sasl ? "" : "sasl { }", config.tls ? "" : "tls"].filter(Boolean);
    const fix =
      missing.length > 0
        ? `does it require SASL or TLS? set ${missing.join(" or ")}`
        : "check the SASL mechanism and TLS settings against its listener";
    return `kafka: the brokers ${brokers} closed the connection at once: ${fix}`;
  }
  const reason = networkReason(error);
  if (reason) {
    return `kafka: cannot reach the brokers ${brokers} (${reason}) to ${doing}; check bootstrap_servers and that Kafka is running`;
  }
  const first = nodes.find((node) => node.apiId) ?? nodes[nodes.length - 1];
  const detail = first?.apiId ?? first?.message ?? String(error);
  return `kafka: cannot ${doing}: ${collapseWhitespace(detail)}`;
}

/** Rejects after `ms` with `message`: the client library's own retries may take longer. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> {
  const result = await waitAtMost(promise, ms);
  if (result === TIMED_OUT) throw new Error(message());
  return result;
}
