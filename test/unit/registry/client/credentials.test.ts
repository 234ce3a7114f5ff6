// Where credentials come from: a docker config entry for the registry wins, else the env pair; a
// half-set env pair is a usage error. Credential helpers are shell scripts (skipped on Windows).
import { afterAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { DstreamError } from "../../../../src/errors.ts";
import { type Credentials, findCredentials } from "../../../../src/registry/client/credentials.ts";

const folder = await mkdtemp(join(tmpdir(), "dstream-creds-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

/** The helper scripts are POSIX shell: Windows runners cannot run them. */
const posixOnly = test.skipIf(process.platform === "win32");

const bin = join(folder, "bin");
await mkdir(bin);
// A real credential helper, as docker-credential-pass or -osxkeychain behave: host on stdin, JSON out.
await writeFile(
  join(bin, "docker-credential-fake"),
  `#!/bin/sh
read host
case "$host" in
  helped.example) echo '{"ServerURL":"helped.example","Username":"helper-user","Secret":"helper-secret"}' ;;
  store.example) echo '{"ServerURL":"store.example","Username":"<token>","Secret":"refresh-123"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
);
await chmod(join(bin, "docker-credential-fake"), 0o755);

async function dockerConfig(config: unknown): Promise<Record<string, string>> {
  const home = await mkdtemp(join(folder, "home-"));
  await mkdir(join(home, ".docker"));
  await writeFile(join(home, ".docker", "config.json"), JSON.stringify(config));
  return { HOME: home, PATH: [bin, "/usr/bin", "/bin"].join(delimiter) };
}

const configFile = (env: Record<string, string>) =>
  join(env.HOME as string, ".docker", "config.json");
const fromFile = (
  env: Record<string, string>,
  username: string,
  password: string,
): Credentials => ({
  kind: "basic",
  username,
  password,
  source: configFile(env),
});
const fromEnv = (username: string, password: string): Credentials => ({
  kind: "basic",
  username,
  password,
  source: "DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD",
});
const pair = { DSTREAM_REGISTRY_USERNAME: "u", DSTREAM_REGISTRY_PASSWORD: "p" };
const auth = (text: string) => Buffer.from(text).toString("base64");

describe("findCredentials", () => {
  test("a docker config entry for the registry wins over DSTREAM_REGISTRY_USERNAME/PASSWORD", async () => {
    const env = await dockerConfig({ auths: { "r.example": { auth: auth("a:b") } } });
    expect(await findCredentials("r.example", { ...env, ...pair })).toEqual(
      fromFile(env, "a", "b"),
    );
  });

  test("the env pair serves the registries the docker config has no entry for", async () => {
    const env = await dockerConfig({ auths: { "r.example": { auth: auth("a:b") } } });
    expect(await findCredentials("other.example", { ...env, ...pair })).toEqual(fromEnv("u", "p"));
    expect(await findCredentials("r.example", { HOME: join(folder, "nobody"), ...pair })).toEqual(
      fromEnv("u", "p"),
    );
  });

  test.each([
    [{ DSTREAM_REGISTRY_USERNAME: "u" }, "DSTREAM_REGISTRY_USERNAME", "DSTREAM_REGISTRY_PASSWORD"],
    [{ DSTREAM_REGISTRY_PASSWORD: "p" }, "DSTREAM_REGISTRY_PASSWORD", "DSTREAM_REGISTRY_USERNAME"],
  ])("%j alone is a usage error (exit 2)", async (half, set, unset) => {
    const env = await dockerConfig({ auths: { "r.example": { auth: auth("a:b") } } });
    const error = await findCredentials("r.example", { ...env, ...half }).catch((caught) => caught);
    expect(error).toBeInstanceOf(DstreamError);
    expect((error as DstreamError).message).toBe(
      `${set} is set but ${unset} is not: set both, or neither to use only ~/.docker/config.json`,
    );
    expect((error as DstreamError).exitCode as number).toBe(2);
  });

  test("auths entries, keyed by host or URL; Docker Hub under its legacy keys", async () => {
    const env = await dockerConfig({
      auths: {
        "r.example:5000": { auth: auth("alice:pa:ss") },
        "https://other.example/v2/": { auth: auth("bob:secret") },
        "https://index.docker.io/v1/": { auth: auth("hub:token") },
      },
    });
    expect(await findCredentials("r.example:5000", env)).toEqual(fromFile(env, "alice", "pa:ss"));
    expect(await findCredentials("other.example", env)).toEqual(fromFile(env, "bob", "secret"));
    expect(await findCredentials("docker.io", env)).toEqual(fromFile(env, "hub", "token"));
    expect(await findCredentials("unknown.example", env)).toBeUndefined();
  });

  test("identity tokens", async () => {
    const env = await dockerConfig({ auths: { "r.example": { identitytoken: "idt" } } });
    expect(await findCredentials("r.example", env)).toEqual({
      kind: "identity-token",
      token: "idt",
      source: configFile(env),
    });
  });

  posixOnly("credHelpers per registry, through docker-credential-<name>", async () => {
    const env = await dockerConfig({ credHelpers: { "helped.example": "fake" } });
    expect(await findCredentials("helped.example", { ...env, ...pair })).toEqual({
      kind: "basic",
      username: "helper-user",
      password: "helper-secret",
      source: `${configFile(env)} (docker-credential-fake)`,
    });
  });

  posixOnly("a helper that knows nothing about the registry leaves the env pair", async () => {
    const env = await dockerConfig({ credHelpers: { "r.example": "fake" }, credsStore: "fake" });
    expect(await findCredentials("r.example", { ...env, ...pair })).toEqual(fromEnv("u", "p"));
  });

  posixOnly(
    "credsStore for every registry; <token> marks an identity token; unknown hosts get none",
    async () => {
      const env = await dockerConfig({ credsStore: "fake", auths: { "store.example": {} } });
      expect(await findCredentials("store.example", env)).toEqual({
        kind: "identity-token",
        token: "refresh-123",
        source: `${configFile(env)} (docker-credential-fake)`,
      });
      expect(await findCredentials("nowhere.example", env)).toBeUndefined();
    },
  );

  test("a helper that is not installed gives no credentials", async () => {
    const env = await dockerConfig({ credsStore: "desktop" });
    expect(await findCredentials("r.example", env)).toBeUndefined();
  });

  test("no docker config: no credentials", async () => {
    expect(await findCredentials("r.example", { HOME: join(folder, "nobody") })).toBeUndefined();
  });

  test("DOCKER_CONFIG names the folder", async () => {
    const env = await dockerConfig({ auths: { "r.example": { auth: auth("c:d") } } });
    expect(
      await findCredentials("r.example", {
        DOCKER_CONFIG: join(env.HOME as string, ".docker"),
        HOME: "/nonexistent",
      }),
    ).toEqual(fromFile(env, "c", "d"));
  });
});
