// Test harness: the real CNCF registry (/usr/bin/docker-registry) on a free loopback port with a temp
// storage folder, stopped with bounded waits; and a runner for the compiled dstream binary.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const registryProgram = "/usr/bin/docker-registry";
export const dstreamBinary = resolve(import.meta.dir, "../../dist/dstream");

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;

export type RegistryAuth =
  | { kind: "htpasswd"; username: string; password: string }
  | { kind: "token"; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RunningRegistry {
  /** "127.0.0.1:PORT", as written in references. */
  host: string;
  storageDir: string;
  /** Stops the registry (if still running) and removes its folders. */
  stop(): Promise<void>;
  /** Stops the registry and keeps its storage, to play "registry down". */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function authSection(auth: RegistryAuth | undefined, folder: string): Promise<string> {
  if (!auth) return "";
  if (auth.kind === "htpasswd") {
    // The registry accepts only bcrypt entries.
    const hash = await Bun.password.hash(auth.password, { algorithm: "bcrypt", cost: 5 });
    const path = join(folder, "htpasswd");
    await writeFile(path, `${auth.username}:${hash}\n`);
    return `auth:\n  htpasswd:\n    realm: dstream-test\n    path: ${path}\n`;
  }
  return [
    "auth:",
    "  token:",
    `    realm: ${auth.realm}`,
    `    service: ${auth.service}`,
    `    issuer: ${auth.issuer}`,
    `    rootcertbundle: ${auth.rootCertBundle}`,
    "",
  ].join("\n");
}

async function waitUntilServing(host: string, child: Bun.Subprocess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // Not listening yet.
    }
    await Bun.sleep(50);
  }
  throw new Error(`docker-registry did not answer on ${host} within ${START_TIMEOUT_MS} ms`);
}

async function stopChild(child: Bun.Subprocess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const stopped = await Promise.race([
    child.exited.then(() => true),
    Bun.sleep(STOP_TIMEOUT_MS).then(() => false),
  ]);
  if (!stopped) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** Starts the registry; another attempt on a new port if a process took the free port meanwhile. */
export async function startRegistry(
  options: { auth?: RegistryAuth } = {},
): Promise<RunningRegistry> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRegistryOnce(options);
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function startRegistryOnce(options: { auth?: RegistryAuth }): Promise<RunningRegistry> {
  const folder = await mkdtemp(join(tmpdir(), "dstream-registry-"));
  const storageDir = join(folder, "storage");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    "  secret: dstream-test-secret",
    await authSection(options.auth, folder),
  ].join("\n");
  const configPath = join(folder, "config.yml");
  await writeFile(configPath, config);
  const child = Bun.spawn([registryProgram, "serve", configPath], {
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    await waitUntilServing(host, child);
  } catch (error) {
    await stopChild(child);
    const stderr = await new Response(child.stderr).text();
    await rm(folder, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    host,
    storageDir,
    kill: () => stopChild(child),
    async stop() {
      await stopChild(child);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Uploads a blob with plain HTTP (POST then PUT), independent of dstream's own client. */
export async function uploadBlob(
  registryHost: string,
  repository: string,
  bytes: Uint8Array,
  algorithm: "sha256" | "sha512" = "sha256",
): Promise<string> {
  const digest = `${algorithm}:${new Bun.CryptoHasher(algorithm).update(bytes).digest("hex")}`;
  const started = await fetch(`http://${registryHost}/v2/${repository}/blobs/uploads/`, {
    method: "POST",
  });
  if (started.status !== 202) throw new Error(`upload POST answered ${started.status}`);
  const location = new URL(started.headers.get("location") as string, `http://${registryHost}`);
  location.searchParams.set("digest", digest);
  const finished = await fetch(location, { method: "PUT", body: bytes });
  if (finished.status !== 201) throw new Error(`upload PUT answered ${finished.status}`);
  return digest;
}

/** Puts a manifest (JSON value) under a tag with plain HTTP; answers its bytes. */
export async function putManifest(
  registryHost: string,
  repository: string,
  tag: string,
  manifest: { mediaType: string } & Record<string, unknown>,
): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const response = await fetch(`http://${registryHost}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": manifest.mediaType },
    body: bytes,
  });
  if (response.status !== 201) {
    throw new Error(`manifest PUT answered ${response.status}: ${await response.text()}`);
  }
  return bytes;
}

/** Where the filesystem driver keeps a blob's bytes (tests tamper with it). */
export function storedBlobPath(storageDir: string, digest: string): string {
  const hex = digest.replace("sha256:", "");
  return join(storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

export interface DstreamRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const RUN_TIMEOUT_MS = 60_000;

/** Runs the compiled binary; async so an in-process server (token service) keeps answering. */
export async function runDstream(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<DstreamRun> {
  const child = Bun.spawn([dstreamBinary, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: RUN_TIMEOUT_MS,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}
