// One-line messages for what PostgreSQL and the client report, with the password masked everywhere.
import { errorCode } from "../../errors.ts";
import { collapseWhitespace } from "../../one-line.ts";

/** An event the output cannot apply, found before any SQL ran: its message is final. */
export class EventError extends Error {
  override readonly name = "EventError";
}

/** The fields node-postgres copies from the server's ErrorResponse. */
export interface ServerError {
  message: string;
  code?: string;
  column?: string;
  table?: string;
  schema?: string;
  constraint?: string;
  detail?: string;
}

export function serverError(error: unknown): ServerError | undefined {
  const code = errorCode(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? (error as ServerError) : undefined;
}

/** The connection is gone (or going): no use asking the server which event it refused. */
export function isConnectionLoss(error: unknown): boolean {
  const code = serverError(error)?.code;
  return code === undefined || code.startsWith("08") || /^57P0[1-3]$/.test(code);
}

/** The secrets a message must never show: the URL's password (raw and decoded) and PGPASSWORD. */
export function secretsOf(connectionString: string | undefined): string[] {
  const secrets: string[] = [];
  const password = process.env.PGPASSWORD;
  if (password) secrets.push(password);
  if (connectionString) {
    const match = /^[a-z]+:\/\/[^:@/]*:([^@/]*)@/i.exec(connectionString);
    if (match?.[1]) {
      secrets.push(match[1]);
      try {
        secrets.push(decodeURIComponent(match[1]));
      } catch {
        // not percent-encoded: the raw form is masked already
      }
    }
  }
  return secrets.filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by "***". */
export function mask(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) masked = masked.replaceAll(secret, "***");
  return masked;
}

/** Where the client connects, as host:port/database and user (never the password). */
export interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
}

export function describeTarget(target: Target): string {
  return `${target.host}:${target.port}/${target.database} as "${target.user}"`;
}

/** A one-line message for a failure to connect or to talk to the server. */
export function describeConnectionError(error: unknown, target: Target, doing: string): string {
  const where = describeTarget(target);
  const server = serverError(error);
  if (server?.code === "28P01" || server?.code === "28000") {
    return `postgres: authentication failed at ${where}; check the user and password of connection_string (or PGUSER, PGPASSWORD)`;
  }
  if (server?.code === "3D000") {
    return `postgres: database "${target.database}" does not exist at ${target.host}:${target.port}; create it or fix connection_string`;
  }
  const system = errorCode(error);
  if (system !== undefined && /^E[A-Z]+$/.test(system)) {
    return `postgres: cannot connect to ${where} (${system}); check connection_string and that PostgreSQL is running`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) {
    return `postgres: cannot connect to ${where} (timed out); check connection_string and that PostgreSQL is running`;
  }
  return `postgres: cannot ${doing} at ${where}: ${collapseWhitespace(message)}`;
}
