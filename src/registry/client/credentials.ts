// Registry credentials: ~/.docker/config.json's entry for the registry (credHelpers, auths with auth
// or identitytoken, credsStore, through docker-credential-<name> helpers) when it has one, else
// DSTREAM_REGISTRY_USERNAME/PASSWORD, which apply to any registry.
import { homedir } from "node:os";
import { join } from "node:path";
import { DstreamError } from "../../errors.ts";
import type { Env } from "./transport.ts";

/** Where credentials came from, for messages: the env pair, or the docker config file. */
export type Credentials = { source: string } & (
  | { kind: "basic"; username: string; password: string }
  | { kind: "identity-token"; token: string }
);

export const envPair = "DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD";

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

function dockerConfigPath(env: Env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json");
}

async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
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
  source: string,
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
  if (answer.Username === "<token>") {
    return { kind: "identity-token", token: answer.Secret, source };
  }
  return { kind: "basic", username: answer.Username ?? "", password: answer.Secret, source };
}

function fromAuthEntry(
  entry: { auth?: string; identitytoken?: string },
  source: string,
): Credentials | undefined {
  if (entry.identitytoken) return { kind: "identity-token", token: entry.identitytoken, source };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return {
    kind: "basic",
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    source,
  };
}

/** The docker config's credentials for this registry, if it has an entry that yields some. */
async function dockerCredentials(registry: string, env: Env): Promise<Credentials | undefined> {
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (!config) return undefined;
  const keys = configKeys(registry);
  for (const key of keys) {
    const helper = config.credHelpers?.[key];
    if (helper) return askHelper(helper, key, env, `${path} (docker-credential-${helper})`);
  }
  const authKey = Object.keys(config.auths ?? {}).find((key) => keys.includes(keyHost(key)));
  const entry = authKey === undefined ? undefined : config.auths?.[authKey];
  const inline = entry ? fromAuthEntry(entry, path) : undefined;
  if (inline) return inline;
  if (!config.credsStore) return undefined;
  const serverUrl = authKey ?? keys[0] ?? registry;
  return askHelper(
    config.credsStore,
    serverUrl,
    env,
    `${path} (docker-credential-${config.credsStore})`,
  );
}

/** The env pair, or undefined when neither is set; one without the other is a usage error. */
export function envCredentials(env: Env): Credentials | undefined {
  const username = env.DSTREAM_REGISTRY_USERNAME;
  const password = env.DSTREAM_REGISTRY_PASSWORD;
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    const [set, unset] =
      username === undefined
        ? ["DSTREAM_REGISTRY_PASSWORD", "DSTREAM_REGISTRY_USERNAME"]
        : ["DSTREAM_REGISTRY_USERNAME", "DSTREAM_REGISTRY_PASSWORD"];
    throw new DstreamError(
      "USAGE",
      `${set} is set but ${unset} is not: set both, or neither to use only ~/.docker/config.json`,
    );
  }
  return { kind: "basic", username, password, source: envPair };
}

/**
 * Credentials for a registry: a docker config entry for it wins (it names this registry), else the
 * env pair (meant for any registry), else none.
 */
export async function findCredentials(
  registry: string,
  env: Env,
): Promise<Credentials | undefined> {
  const fromEnv = envCredentials(env);
  return (await dockerCredentials(registry, env)) ?? fromEnv;
}
