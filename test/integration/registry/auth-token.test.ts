// Bearer token auth as GHCR and Docker Hub do it: the registry's `auth: token` points at a small
// token service written here, whose JWTs (RS256, x5c) the registry verifies against a self-signed
// certificate made with openssl. Anonymous pulls get a pull-only token; pushes need credentials.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSign } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const service = "dstream-test-registry";
const issuer = "dstream-test-issuer";
const users: Record<string, string> = { bob: "builder-pass" };
let registry: RunningRegistry;
let tokenServer: ReturnType<typeof Bun.serve>;
let folder: string;
let privateKey: string;
let certificateDer: string;
const tokenRequests: { scope: string | null; user: string | null }[] = [];

function sortActions(scope: string): string {
  const at = scope.lastIndexOf(":");
  return `${scope.slice(0, at)}:${scope
    .slice(at + 1)
    .split(",")
    .sort()
    .join(",")}`;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

function issueToken(subject: string, access: { type: string; name: string; actions: string[] }[]) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [certificateDer] }));
  const claims = base64url(
    JSON.stringify({
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    }),
  );
  const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

/** Identity tokens (as `docker login` stores them) this service accepts as OAuth2 refresh tokens. */
const refreshTokens: Record<string, string> = { "refresh-for-bob": "bob" };
let refreshGrants = 0;

/** GET with optional Basic credentials, or POST with a refresh token, as Docker's token spec has it. */
async function handleTokenRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method === "POST") {
    const form = new URLSearchParams(await request.text());
    const user = refreshTokens[form.get("refresh_token") ?? ""];
    if (form.get("grant_type") !== "refresh_token" || !user) {
      return new Response("bad refresh token", { status: 401 });
    }
    refreshGrants++;
    return Response.json({ access_token: grant(user, form.get("scope")) });
  }
  const authorization = request.headers.get("authorization");
  let user: string | null = null;
  if (authorization?.startsWith("Basic ")) {
    const [name, ...rest] = Buffer.from(authorization.slice(6), "base64").toString().split(":");
    if (!name || users[name] !== rest.join(":"))
      return new Response("bad credentials", { status: 401 });
    user = name;
  }
  const scope = url.searchParams.get("scope");
  // The registry lists a scope's actions in no fixed order (pull,push or push,pull): record them sorted.
  tokenRequests.push({ scope: scope && sortActions(scope), user });
  return Response.json({ token: grant(user, scope) });
}

/** Grants pull to anyone on public/*, everything to a known user, nothing else. */
function grant(user: string | null, scope: string | null): string {
  const access = [];
  const match = /^repository:([^:]+):(.+)$/.exec(scope ?? "");
  if (match) {
    const [, name = "", wanted = ""] = match;
    const actions = wanted
      .split(",")
      .filter((action) => user !== null || (action === "pull" && name.startsWith("public/")));
    access.push({ type: "repository", name, actions });
  }
  return issueToken(user ?? "anonymous", access);
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-token-"));
  const made = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "1",
      "-subj",
      "/CN=dstream-test-token",
    ],
    { cwd: folder, stdout: "ignore", stderr: "pipe", timeout: 30_000 },
  );
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  privateKey = await Bun.file(join(folder, "key.pem")).text();
  certificateDer = (await Bun.file(join(folder, "cert.pem")).text()).replace(
    /-----[^-]+-----|\s/g,
    "",
  );
  tokenServer = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: handleTokenRequest,
  });
  registry = await startRegistry({
    auth: {
      kind: "token",
      realm: `http://127.0.0.1:${tokenServer.port}/token`,
      service,
      issuer,
      rootCertBundle: join(folder, "cert.pem"),
    },
  });
});
afterAll(async () => {
  await registry?.stop();
  tokenServer?.stop(true);
  await rm(folder, { recursive: true, force: true });
});

async function pull(reference: string, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(folder, "project-"));
  await writeFile(
    join(dir, "dstream.hcl"),
    `task "t" {\n  input {\n    provider_ref = "${reference}"\n  }\n  output {\n    provider = "null"\n  }\n}\n`,
  );
  return runDstream(["providers", "pull"], {
    cwd: dir,
    env: { DSTREAM_CACHE_DIR: join(dir, "cache"), HOME: dir, ...env },
  });
}

describe("Bearer token auth", () => {
  test("push with credentials; anonymous pull of a public repo; private repo needs credentials", async () => {
    const binary = join(folder, "tool");
    await writeFile(binary, "#!/bin/sh\necho token\n");
    await chmod(binary, 0o755);
    const credentials = {
      DSTREAM_REGISTRY_USERNAME: "bob",
      DSTREAM_REGISTRY_PASSWORD: users.bob as string,
    };
    const publicRef = `${registry.host}/public/tool:v1`;
    const privateRef = `${registry.host}/private/tool:v1`;

    const denied = await runDstream(
      ["providers", "push", publicRef, "--platform", `${host}=${binary}`],
      {
        env: { HOME: folder },
      },
    );
    expect(denied.stderr).toBe(
      `error: registry ${registry.host} needs credentials for ${publicRef} (401 Unauthorized): log in with docker login ${registry.host}, or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD\n`,
    );
    expect(denied.exitCode).toBe(1);

    for (const reference of [publicRef, privateRef]) {
      const pushed = await runDstream(
        ["providers", "push", reference, "--platform", `${host}=${binary}`],
        {
          env: { HOME: folder, ...credentials },
        },
      );
      expect(pushed.stderr).toBe("");
      expect(pushed.exitCode).toBe(0);
    }
    expect(tokenRequests).toContainEqual({
      scope: "repository:public/tool:pull,push",
      user: "bob",
    });

    tokenRequests.length = 0;
    const anonymous = await pull(publicRef);
    expect(anonymous.stderr).toBe("");
    expect(anonymous.exitCode).toBe(0);
    expect(anonymous.stdout).toStartWith(`${publicRef}  ${host}  sha256:`);
    expect(tokenRequests).toEqual([{ scope: "repository:public/tool:pull", user: null }]);

    const privateAnonymous = await pull(privateRef);
    expect(privateAnonymous.stderr).toBe(
      `error: registry ${registry.host} needs credentials for ${privateRef} (401 Unauthorized): log in with docker login ${registry.host}, or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD\n`,
    );
    expect(privateAnonymous.exitCode).toBe(1);

    const privateWithCredentials = await pull(privateRef, credentials);
    expect(privateWithCredentials.stderr).toBe("");
    expect(privateWithCredentials.exitCode).toBe(0);

    const wrong = await pull(privateRef, {
      DSTREAM_REGISTRY_USERNAME: "bob",
      DSTREAM_REGISTRY_PASSWORD: "wrong",
    });
    expect(wrong.stderr).toBe(
      `error: the token service of ${registry.host} refused access to ${privateRef} (401): check the credentials\n`,
    );
    expect(wrong.exitCode).toBe(1);

    // An identity token from ~/.docker/config.json is exchanged by POST as a refresh token.
    const dockerHome = join(folder, "docker-home");
    await mkdir(join(dockerHome, ".docker"), { recursive: true });
    await writeFile(
      join(dockerHome, ".docker", "config.json"),
      JSON.stringify({ auths: { [registry.host]: { identitytoken: "refresh-for-bob" } } }),
    );
    const withIdentityToken = await pull(privateRef, { HOME: dockerHome });
    expect(withIdentityToken.stderr).toBe("");
    expect(withIdentityToken.exitCode).toBe(0);
    expect(refreshGrants).toBeGreaterThan(0);
  });
});
