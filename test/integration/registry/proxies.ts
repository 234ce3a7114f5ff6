// Fault proxies in front of the real registry: an HTTP proxy whose handler may answer instead of the
// registry, and a TCP proxy that paces or stalls the bytes in either direction.
import { connect, createServer, type Socket } from "node:net";

export interface FaultProxy {
  /** "127.0.0.1:PORT", as written in references. */
  host: string;
  stop(): void;
}

/** Forwards a request to the registry, body included; answers the registry's response. */
export async function forward(registryHost: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const upstream = await fetch(`http://${registryHost}${url.pathname}${url.search}`, {
    method: request.method,
    headers: request.headers,
    redirect: "manual",
    ...(hasBody ? { body: await request.arrayBuffer() } : {}),
  });
  return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
}

/** An HTTP proxy: `handle` answers, or returns undefined to forward the request unchanged. */
export function httpProxy(
  registryHost: string,
  handle: (request: Request) => Promise<Response | undefined> | Response | undefined,
): FaultProxy {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      return (await handle(request)) ?? forward(registryHost, request);
    },
  });
  return { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

export interface Pacing {
  /** Bytes per second from dstream to the registry (an uplink); unlimited when absent. */
  upRate?: number;
  /** Bytes per second from the registry to dstream. */
  downRate?: number;
  /** After this many bytes of one connection, the direction stops moving (and stays open). */
  stallUpAfter?: number;
  stallDownAfter?: number;
}

/** Copies `from` to `to` at `rate` bytes/s, and stops for good after `stallAfter` bytes. */
function pipe(from: Socket, to: Socket, rate?: number, stallAfter?: number): void {
  let moved = 0;
  from.on("data", (chunk: Buffer) => {
    if (stallAfter !== undefined && moved + chunk.length > stallAfter) {
      to.write(chunk.subarray(0, Math.max(0, stallAfter - moved)));
      moved = stallAfter;
      from.pause();
      return;
    }
    moved += chunk.length;
    to.write(chunk);
    if (rate) {
      from.pause();
      setTimeout(() => from.resume(), (chunk.length / rate) * 1000);
    }
  });
  from.on("end", () => to.end());
  from.on("error", () => to.destroy());
}

/** A TCP proxy pacing or stalling the bytes of every connection. */
export async function tcpProxy(registryHost: string, pacing: Pacing): Promise<FaultProxy> {
  const [hostname, port] = registryHost.split(":");
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname as string);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    pipe(client, upstream, pacing.upRate, pacing.stallUpAfter);
    pipe(upstream, client, pacing.downRate, pacing.stallDownAfter);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    host: `127.0.0.1:${address.port}`,
    stop() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A server that accepts connections and never answers. */
export function silentServer(): FaultProxy {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  return { host: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
