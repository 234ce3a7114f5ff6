// Connections of postgres-cdc (node-postgres): session settings the value mapping relies on, where
// a connection goes without its password, and PostgreSQL errors as one line with the fix.
import pg from "pg";
import { errorCode } from "../../errors.ts";
import type { PostgresCdcConfig } from "./schema.ts";

/** Every session speaks the text formats values.ts reads: ISO dates in UTC, hex bytea. */
const sessionOptions =
  "-c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex -c client_encoding=UTF8";

/** Every value comes back as PostgreSQL's text: values.ts maps it (no lossy number parsing). */
const rawText = { getTypeParser: () => (text: string) => text };

const connectTimeoutMs = 15_000;

export function clientConfig(config: PostgresCdcConfig, replication: boolean): pg.ClientConfig {
  return {
    ...(config.connection_string ? { connectionString: config.connection_string } : {}),
    ...(replication ? { replication: "database" } : {}),
    options: sessionOptions,
    application_name: "dstream-postgres-cdc",
    connectionTimeoutMillis: connectTimeoutMs,
    types: rawText,
  } as pg.ClientConfig;
}

/** "user@host:port/database": where a client goes, never with its password. */
export function targetOf(config: PostgresCdcConfig): string {
  const client = new pg.Client(clientConfig(config, false));
  return `${client.user}@${client.host}:${client.port}/${client.database}`;
}

/** Passwords that must never appear in a message: the URL's and PGPASSWORD. */
function secretsOf(config: PostgresCdcConfig): string[] {
  const secrets: string[] = [];
  if (config.connection_string) {
    try {
      const password = new URL(config.connection_string).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // Not a URL pg can read either: the URL pattern below still masks it.
    }
  }
  if (process.env.PGPASSWORD) secrets.push(process.env.PGPASSWORD);
  return secrets.filter((secret) => secret.length > 0);
}

/** The message with every password replaced by "****", URLs' included. */
export function maskSecrets(message: string, config: PostgresCdcConfig): string {
  let masked = message.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]*@/g, "$1****@");
  for (const secret of secretsOf(config)) masked = masked.split(secret).join("****");
  return masked;
}

/** One line saying what failed and how to fix it; `doing` says what dstream was doing. */
export function describePostgresError(
  error: unknown,
  config: PostgresCdcConfig,
  doing: string,
): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const target = targetOf(config);
  const [user] = target.split("@");
  let line: string;
  switch (code) {
    case "ECONNREFUSED":
      line = `cannot connect to ${target}: connection refused; check connection_string (or PGHOST/PGPORT) and that PostgreSQL is running`;
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      line = `cannot connect to ${target}: unknown host; check connection_string (or PGHOST)`;
      break;
    case "28P01":
      line = `password authentication failed for user "${user}" at ${target}; check the password in connection_string (or PGPASSWORD)`;
      break;
    case "28000":
      line = `${message} (connecting to ${target}); allow this user in pg_hba.conf (a "replication" line too) or use another user`;
      break;
    case "3D000":
      line = `${message} at ${target}; check the database in connection_string (or PGDATABASE)`;
      break;
    case "42501":
      line = /walsender|replication/i.test(message)
        ? `role "${user}" lacks the REPLICATION attribute: ALTER ROLE "${user}" WITH REPLICATION (as a superuser)`
        : `${message} while trying to ${doing}; grant the privilege to role "${user}"`;
      break;
    case "55000":
      line = /wal_level/.test(message)
        ? walLevelMessage("(unknown)")
        : `${message} while trying to ${doing}`;
      break;
    default:
      line = /timeout/i.test(message)
        ? `cannot connect to ${target} within ${connectTimeoutMs} ms; check connection_string and that PostgreSQL is reachable`
        : `cannot ${doing}: ${message}${code ? ` (${code})` : ""}`;
  }
  return maskSecrets(`postgres-cdc: ${line}`, config);
}

export function walLevelMessage(current: string): string {
  return `postgres-cdc: wal_level is "${current}", logical replication needs "logical": run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (the setting takes effect only at a restart)`;
}

/** Errors dstream already worded ("postgres-cdc: ...") pass through; the rest are described. */
export function oneLineError(error: unknown, config: PostgresCdcConfig, doing: string): Error {
  if (error instanceof Error && error.message.startsWith("postgres-cdc:")) return error;
  return new Error(describePostgresError(error, config, doing), { cause: error });
}

/** A connected client; a failure to connect is one line (password masked). */
export async function connect(config: PostgresCdcConfig, replication: boolean): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(config, replication));
  // An error after connecting (the server went away) surfaces through the query that waits.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw oneLineError(error, config, replication ? "open a replication connection" : "connect");
  }
  return client;
}

/** Quotes an identifier for SQL ("my table" -> "\"my table\""). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
