// Connections of the postgres state backend: pg loaded only when used, sessions set up for
// durability and dead-peer detection, and errors as one line that never shows the password.
import type { Client } from "pg";
import { TIMED_OUT, waitAtMost } from "../bounded-wait.ts";
import { DstreamError, errorCode, messageOf } from "../errors.ts";

/** The database the state lives in, and how to name it in messages. */
export interface PostgresTarget {
  connectionString: string;
  /** The URL without its password: what messages show. */
  where: string;
  /** Every spelling of the secrets in the URL, masked in any message. */
  secrets: string[];
}

/** Any single statement; a server that stops answering fails it instead of hanging the run. */
const QUERY_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 2000;

const SECRET_PARAMETERS = /password/i;

export function postgresTarget(connectionString: string): PostgresTarget {
  const url = new URL(connectionString);
  const secrets = new Set<string>();
  const addSecret = (raw: string) => {
    if (raw === "") return;
    secrets.add(raw);
    try {
      secrets.add(decodeURIComponent(raw));
    } catch {
      // Not percent-encoded as a whole: the raw spelling is masked.
    }
  };
  addSecret(url.password);
  url.password = "";
  for (const [name, value] of [...url.searchParams]) {
    if (!SECRET_PARAMETERS.test(name)) continue;
    addSecret(value);
    addSecret(encodeURIComponent(value));
    url.searchParams.delete(name);
  }
  return { connectionString, where: url.toString(), secrets: [...secrets] };
}

/** `text` with every secret of the target replaced by ***. */
export function maskSecrets(text: string, target: PostgresTarget): string {
  let masked = text;
  for (const secret of target.secrets) masked = masked.replaceAll(secret, "***");
  return masked;
}

/** One line about a failure talking to the database: the server's own words, a hint for the usual ones. */
export function describePostgresError(error: unknown, target: PostgresTarget): string {
  const code = errorCode(error);
  const message = messageOf(error).split("\n")[0] ?? "";
  const hint =
    code === "ECONNREFUSED"
      ? " (is PostgreSQL running there?)"
      : code === "28P01"
        ? " (check the user and password of connection_string)"
        : code === "42501"
          ? " (grant the role the privilege, or create the tables as docs/configuration.md shows)"
          : "";
  return `${maskSecrets(message || code || "unknown error", target)}${hint}`;
}

/** A STATE error (exit 1) naming the backend and its database, never the password. */
export function stateBackendError(
  target: PostgresTarget,
  doing: string,
  error: unknown,
): DstreamError {
  return new DstreamError(
    "STATE",
    `state backend postgres (${target.where}): ${doing}: ${describePostgresError(error, target)}`,
    { cause: maskedCause(error, target) },
  );
}

/** The cause chain is printed with --log-level debug: it must not carry the password either. */
function maskedCause(error: unknown, target: PostgresTarget): Error {
  const masked = new Error(maskSecrets(messageOf(error), target));
  const code = errorCode(error);
  if (code) Object.assign(masked, { code });
  return masked;
}

let pgModule: Promise<typeof import("pg")> | undefined;

/** pg is loaded on first use only: `dstream version` and file-backend runs never pay for it. */
function loadPg(): Promise<typeof import("pg")> {
  pgModule ??= import("pg");
  return pgModule;
}

/** One connection; its first error or unexpected end is kept and told to the listeners. */
export class PostgresSession {
  private ending = false;
  private failure: { error: unknown } | undefined;
  private readonly listeners: ((error: unknown) => void)[] = [];

  constructor(readonly client: Client) {
    client.on("error", (error) => this.fail(error));
    client.on("end", () => this.fail(new Error("the connection closed")));
  }

  private fail(error: unknown): void {
    if (this.failure || this.ending) return;
    this.failure = { error };
    for (const listener of this.listeners) listener(error);
  }

  /** Called once, at the first failure (at once when it already failed). */
  onFailure(listener: (error: unknown) => void): void {
    if (this.failure) listener(this.failure.error);
    else this.listeners.push(listener);
  }

  async query<Row extends Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<Row[]> {
    if (this.failure) throw this.failure.error;
    return (await this.client.query<Row>(text, values)).rows;
  }

  /** A round trip within `timeoutMs`, or the session is given up as failed (its locks go with it). */
  async check(timeoutMs: number): Promise<void> {
    try {
      if ((await waitAtMost(this.query("SELECT 1"), timeoutMs)) === TIMED_OUT) {
        throw new Error(`the server did not answer within ${timeoutMs / 1000} s`);
      }
    } catch (error) {
      this.fail(error);
      void this.end();
      throw error;
    }
  }

  /** Ends the session; a peer that does not answer the goodbye within a bound is cut off. */
  async end(): Promise<void> {
    this.ending = true;
    const ended = this.client.end().catch(() => {});
    if ((await waitAtMost(ended, END_TIMEOUT_MS)) === TIMED_OUT) {
      this.client.connection.stream.destroy();
    }
  }
}

/**
 * A connected session. It is durable (synchronous_commit off is raised to on) and asks the server
 * to notice a vanished client within about half a minute (TCP keepalives), which frees its locks.
 */
export async function connectPostgres(target: PostgresTarget): Promise<PostgresSession> {
  let pg: typeof import("pg");
  try {
    pg = await loadPg();
  } catch (error) {
    throw new DstreamError("STATE", `state backend postgres: cannot load pg: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const session = new PostgresSession(
    new pg.Client({
      connectionString: target.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: "dstream state",
    }),
  );
  try {
    await session.client.connect();
    await session.client.query(
      `SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off';
       SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3;`,
    );
  } catch (error) {
    await session.end();
    throw stateBackendError(target, "cannot connect", error);
  }
  return session;
}
