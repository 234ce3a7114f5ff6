// GitHub's release download URLs on loopback: /<repo>/releases/download/<tag>/<file> and
// /<repo>/releases/latest/download/<file>, each tag served from its own folder.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";

export interface ReleaseServer {
  /** What install.sh takes as DSTREAM_GITHUB_URL. */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  stop(): void;
}

export function startReleaseServer(
  repo: string,
  tags: Record<string, string>,
  latest: string,
): ReleaseServer {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request): Response {
      const path = new URL(request.url).pathname;
      requests.push(path);
      const match = new RegExp(
        `^/${repo}/releases/(?:download/([^/]+)|latest/download)/([^/]+)$`,
      ).exec(path);
      const tag = match ? (match[1] ?? latest) : undefined;
      const folder = tag ? tags[tag] : undefined;
      const file = folder && match?.[2] ? join(folder, basename(match[2])) : undefined;
      if (!file || !existsSync(file)) return new Response("Not Found", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
  return { url: server.url.origin, requests, stop: () => server.stop(true) };
}
