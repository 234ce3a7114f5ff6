// How the nats providers reach the servers: connection options, a bounded connect, a bounded
// reconnect after a lost connection, and one-line messages for what the client reports (never a
// password or token).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { waitAtMost } from "../../bounded-wait.ts";
import { messageOf } from "../../errors.ts";
import { collapseWhitespace } from "../../one-line.ts";
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
  return collapseWhitespace(messageOf(error));
}

/** How often the client retries a lost server: several times within the shortest window. */
const reconnectWaitMs = 250;

/** Connects within connect_timeout_ms, or throws one line naming the servers and the fix. */
export async function connectNats(config: NatsConnectionConfig): Promise<NatsConnection> {
  try {
    return await connect({
      servers: serverList(config),
      timeout: config.connect_timeout_ms,
      name: "dstream",
      // Reconnecting is bounded by watchConnection (connect_timeout_ms), not by a count of tries.
      maxReconnectAttempts: -1,
      reconnectTimeWait: reconnectWaitMs,
      // A server that stops answering without closing the socket counts as lost within about
      // connect_timeout_ms, as one that closes it does.
      pingInterval: Math.max(500, Math.round(config.connect_timeout_ms / 2)),
      maxPingOut: 2,
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

export interface ConnectionWatch {
  /** False from a disconnect until the client has reconnected. */
  readonly connected: boolean;
  /** Set once the connection is gone for good: the error to fail with. */
  readonly lost: Error | undefined;
  /** Resolves once the connection is closed, for whatever reason. */
  readonly closed: Promise<void>;
}

interface WatchListener {
  onDisconnect?(): void;
  onReconnect?(): void;
  onLost?(error: Error): void;
}

/**
 * Follows the connection's state. After a disconnect the client reconnects (to any of the servers)
 * for connect_timeout_ms; past that the connection is closed and `lost` names the servers.
 */
export function watchConnection(
  connection: NatsConnection,
  config: NatsConnectionConfig,
  listener: WatchListener = {},
): ConnectionWatch {
  let connected = true;
  let lost: Error | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loseWith = (error: Error) => {
    if (lost) return;
    lost = error;
    listener.onLost?.(error);
  };
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === "disconnect") {
        connected = false;
        clearTimeout(timer);
        timer = setTimeout(() => {
          loseWith(
            new Error(
              `nats: lost the connection to ${shownServers(config)} and could not reconnect within ${config.connect_timeout_ms} ms; check that nats-server is running`,
            ),
          );
          void connection.close().catch(() => {});
        }, config.connect_timeout_ms);
        listener.onDisconnect?.();
      } else if (status.type === "reconnect") {
        clearTimeout(timer);
        connected = true;
        listener.onReconnect?.();
      }
    }
  })();
  const closed = connection.closed().then((error) => {
    clearTimeout(timer);
    connected = false;
    if (error) {
      loseWith(
        new Error(
          `nats: the connection to ${shownServers(config)} was closed (${errorText(error)})`,
          { cause: error },
        ),
      );
    }
  });
  return {
    get connected() {
      return connected;
    },
    get lost() {
      return lost;
    },
    closed,
  };
}

/** Closes at most within `ms`: a dead server must not hold a stop. */
export async function closeWithin(
  connection: NatsConnection | undefined,
  ms = 2000,
): Promise<void> {
  if (!connection || connection.isClosed()) return;
  await waitAtMost(
    connection.drain().catch(() => connection.close()),
    ms,
  );
  if (!connection.isClosed()) await connection.close().catch(() => {});
}
