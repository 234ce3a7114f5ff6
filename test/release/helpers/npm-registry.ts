// A minimal npm registry on loopback serving our own packages, so npm resolves them as from npmjs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface LocalPackage {
  /** Folder holding the generated package.json. */
  dir: string;
  /** The `npm pack` tarball; omitted for packages npm must never download (wrong platform). */
  tarball?: string;
}

export interface LocalRegistry {
  url: string;
  /** Names of tarballs npm downloaded, in order. */
  downloads: string[];
  stop(): void;
}

interface Served {
  manifest: Record<string, unknown> & { name: string; version: string };
  tarball?: Uint8Array;
}

export function startNpmRegistry(packages: LocalPackage[]): LocalRegistry {
  const served = new Map<string, Served>();
  for (const pkg of packages) {
    const manifest = JSON.parse(readFileSync(join(pkg.dir, "package.json"), "utf8"));
    served.set(manifest.name, {
      manifest,
      ...(pkg.tarball ? { tarball: readFileSync(pkg.tarball) } : {}),
    });
  }
  const downloads: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request): Response {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const tarballMatch = /^\/-\/tarball\/(.+)\.tgz$/.exec(path);
      if (tarballMatch?.[1]) {
        const tarball = served.get(tarballMatch[1])?.tarball;
        if (!tarball) return new Response("not found", { status: 404 });
        downloads.push(tarballMatch[1]);
        return new Response(tarball, { headers: { "content-type": "application/octet-stream" } });
      }
      const entry = served.get(path.slice(1));
      if (!entry) return Response.json({ error: "not found" }, { status: 404 });
      return Response.json(packument(entry, server.url.origin));
    },
  });
  return { url: server.url.origin, downloads, stop: () => server.stop(true) };
}

function packument(entry: Served, origin: string): object {
  const { manifest, tarball } = entry;
  const digest = (algorithm: string, encoding: "hex" | "base64") =>
    createHash(algorithm)
      .update(tarball ?? new Uint8Array())
      .digest(encoding);
  const version = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      tarball: `${origin}/-/tarball/${manifest.name}.tgz`,
      shasum: digest("sha1", "hex"),
      integrity: `sha512-${digest("sha512", "base64")}`,
    },
  };
  return {
    _id: manifest.name,
    name: manifest.name,
    "dist-tags": { latest: manifest.version },
    versions: { [manifest.version]: version },
  };
}
