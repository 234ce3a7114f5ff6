// How the nats providers reach the servers: connection options, a bounded connect, and one-line
// messages for what the client reports (never a password or token).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsConnectionConfig } from "./schema.ts";

export function serverList(config: NatsConnectionConfig): string[] {
  const servers = Array.isArray(config.servers) ? config.servers : config.servers.split(",");
  return servers.map((server) => server.trim()).filter((server) => server !== "");
}

/** The servers as a user may read them: any credentials in a URL are left out. */
export function shownServers(config: NatsConnectionConfig): string {
  return serverList(config)
    .map((server) => server.replace(/\/\/[^@/]*@/, "//"))
    .join(", ");
}

export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim();
}

/** Connects within connect_timeout_ms, or throws one line naming the servers and the fix. */
export async function connectNats(config: NatsConnectionConfig): Promise<NatsConnection> {
  try {
    return await connect({
      servers: serverList(config),
      timeout: config.connect_timeout_ms,
      name: "dstream",
      // After a connection is lost, reconnect for about connect_timeout_ms, then fail the run.
      maxReconnectAttempts: Math.max(1, Math.round(config.connect_timeout_ms / 1000)),
      reconnectTimeWait: 1000,
      ...(config.user ? { user: config.user, pass: config.password ?? "" } : {}),
      ...(config.token ? { token: config.token } : {}),
      ...(config.tls ? { tls: {} } : {}),
    });
  } catch (error) {
    const text = errorText(error);
    if (/authorization|authentication/i.test(text)) {
      const who = config.user ? ` as "${config.user}"` : config.token ? " with the token" : "";
      throw new Error(
        `nats: authentication failed${who} at ${shownServers(config)}; check user and password (or token)`,
      );
    }
    throw new Error(
      `nats: cannot reach ${shownServers(config)} (${text}) within ${config.connect_timeout_ms} ms; check servers and that nats-server is running`,
    );
  }
}

/** Closes at most within `ms`: a dead server must not hold a stop. */
export async function closeWithin(
  connection: NatsConnection | undefined,
  ms = 2000,
): Promise<void> {
  if (!connection || connection.isClosed()) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    connection.drain().catch(() => connection.close()),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
  if (!connection.isClosed()) await connection.close().catch(() => {});
}
