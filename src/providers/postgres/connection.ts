// How the postgres output reaches the server: one node-postgres client from the settings (or the
// libpq PG* variables), bounded waits, and messages that never show the password.
import pg from "pg";
import { describeConnectionError, mask, secretsOf, type Target } from "./errors.ts";
import type { PostgresOutputConfig } from "./schema.ts";

export interface Connection {
  client: pg.Client;
  target: Target;
  /** Masks the password in any text about this connection. */
  mask(text: string): string;
}

type ConnectionSettings = Pick<PostgresOutputConfig, "connection_string" | "connect_timeout_ms">;

/** Connects, or throws one line saying where and why (password masked). */
export async function connect(config: ConnectionSettings, doing: string): Promise<Connection> {
  const secrets = secretsOf(config.connection_string);
  const hide = (text: string) => mask(text, secrets);
  let client: pg.Client;
  try {
    client = new pg.Client({
      ...(config.connection_string ? { connectionString: config.connection_string } : {}),
      connectionTimeoutMillis: config.connect_timeout_ms,
      application_name: "dstream",
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(hide(`postgres: connection_string cannot be read: ${message}`));
  }
  const target: Target = {
    host: client.host ?? "localhost",
    port: client.port ?? 5432,
    database: client.database ?? client.user ?? "",
    user: client.user ?? "",
  };
  // A server that goes away between queries is reported by the next query; without a listener
  // the client's "error" event would end the process before we can say anything.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(hide(describeConnectionError(error, target, doing)), { cause: error });
  }
  return { client, target, mask: hide };
}

/** Runs `use` on a fresh connection and closes it; errors leave with the password masked. */
export async function withConnection<T>(
  config: ConnectionSettings,
  doing: string,
  use: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connect(config, doing);
  try {
    return await use(connection);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const text = message.startsWith("postgres:")
      ? message
      : describeConnectionError(error, connection.target, doing);
    throw new Error(connection.mask(text), { cause: error });
  } finally {
    await connection.client.end().catch(() => {});
  }
}
