// Registry credentials: DSTREAM_REGISTRY_USERNAME/PASSWORD, else ~/.docker/config.json (credHelpers,
// auths with auth or identitytoken, credsStore) through docker-credential-<name> helpers.
import { homedir } from "node:os";
import { join } from "node:path";
import { DstreamError } from "../errors.ts";
import type { Env } from "./transport.ts";

export type Credentials =
  | { kind: "basic"; username: string; password: string }
  | { kind: "identity-token"; token: string };

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string } | undefined>;
  credsStore?: string;
  credHelpers?: Record<string, string | undefined>;
}

const HELPER_TIMEOUT_MS = 10_000;
const dockerHubKeys = ["https://index.docker.io/v1/", "index.docker.io", "docker.io"];

function configKeys(registry: string): string[] {
  return registry === "docker.io" ? [...dockerHubKeys, "registry-1.docker.io"] : [registry];
}

/** `auths` keys are written as hosts or as URLs (https://host/v2/); compare by host. */
function keyHost(key: string): string {
  return key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

async function readDockerConfig(env: Env): Promise<DockerConfig | undefined> {
  const folder = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
  const path = join(folder, "config.json");
  const file = Bun.file(path);
  if (!(await file.exists())) return undefined;
  try {
    return (await file.json()) as DockerConfig;
  } catch (error) {
    throw new DstreamError("REGISTRY", `cannot read ${path}: it is not valid JSON`, {
      cause: error,
    });
  }
}

/** Asks docker-credential-<helper>; a helper that is missing or knows nothing gives undefined. */
async function askHelper(
  helper: string,
  serverUrl: string,
  env: Env,
): Promise<Credentials | undefined> {
  const program = Bun.which(`docker-credential-${helper}`, env.PATH ? { PATH: env.PATH } : {});
  if (!program) return undefined;
  const child = Bun.spawn([program, "get"], {
    stdin: new TextEncoder().encode(serverUrl),
    stdout: "pipe",
    stderr: "ignore",
    timeout: HELPER_TIMEOUT_MS,
  });
  const [output, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (exitCode !== 0) return undefined;
  let answer: { Username?: string; Secret?: string };
  try {
    answer = JSON.parse(output);
  } catch (error) {
    throw new DstreamError(
      "REGISTRY",
      `docker-credential-${helper} answered something other than JSON for ${serverUrl}`,
      { cause: error },
    );
  }
  if (!answer.Secret) return undefined;
  // Docker's convention: the user name "<token>" marks an identity (refresh) token.
  if (answer.Username === "<token>") return { kind: "identity-token", token: answer.Secret };
  return { kind: "basic", username: answer.Username ?? "", password: answer.Secret };
}

function fromAuthEntry(entry: { auth?: string; identitytoken?: string }): Credentials | undefined {
  if (entry.identitytoken) return { kind: "identity-token", token: entry.identitytoken };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function findCredentials(
  registry: string,
  env: Env,
): Promise<Credentials | undefined> {
  if (env.DSTREAM_REGISTRY_USERNAME !== undefined && env.DSTREAM_REGISTRY_PASSWORD !== undefined) {
    return {
      kind: "basic",
      username: env.DSTREAM_REGISTRY_USERNAME,
      password: env.DSTREAM_REGISTRY_PASSWORD,
    };
  }
  const config = await readDockerConfig(env);
  if (!config) return undefined;
  const keys = configKeys(registry);
  for (const key of keys) {
    const helper = config.credHelpers?.[key];
    if (helper) return askHelper(helper, key, env);
  }
  const authKey = Object.keys(config.auths ?? {}).find((key) => keys.includes(keyHost(key)));
  const entry = authKey === undefined ? undefined : config.auths?.[authKey];
  const inline = entry ? fromAuthEntry(entry) : undefined;
  if (inline) return inline;
  if (config.credsStore) return askHelper(config.credsStore, authKey ?? keys[0] ?? registry, env);
  return undefined;
}
