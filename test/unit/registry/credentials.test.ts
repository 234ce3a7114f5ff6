import { afterAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Credentials, findCredentials } from "../../../src/registry/credentials.ts";

const folder = await mkdtemp(join(tmpdir(), "dstream-creds-"));
afterAll(() => rm(folder, { recursive: true, force: true }));

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
  return { HOME: home, PATH: `${bin}:/usr/bin:/bin` };
}

const basic = (username: string, password: string): Credentials => ({
  kind: "basic",
  username,
  password,
});
const auth = (text: string) => Buffer.from(text).toString("base64");

describe("findCredentials", () => {
  test("DSTREAM_REGISTRY_USERNAME/PASSWORD win over the docker config", async () => {
    const env = await dockerConfig({ auths: { "r.example": { auth: auth("a:b") } } });
    expect(
      await findCredentials("r.example", {
        ...env,
        DSTREAM_REGISTRY_USERNAME: "u",
        DSTREAM_REGISTRY_PASSWORD: "p",
      }),
    ).toEqual(basic("u", "p"));
  });

  test("auths entries, keyed by host or URL", async () => {
    const env = await dockerConfig({
      auths: {
        "r.example:5000": { auth: auth("alice:pa:ss") },
        "https://other.example/v2/": { auth: auth("bob:secret") },
        "https://index.docker.io/v1/": { auth: auth("hub:token") },
      },
    });
    expect(await findCredentials("r.example:5000", env)).toEqual(basic("alice", "pa:ss"));
    expect(await findCredentials("other.example", env)).toEqual(basic("bob", "secret"));
    expect(await findCredentials("docker.io", env)).toEqual(basic("hub", "token"));
    expect(await findCredentials("unknown.example", env)).toBeUndefined();
  });

  test("identity tokens", async () => {
    const env = await dockerConfig({ auths: { "r.example": { identitytoken: "idt" } } });
    expect(await findCredentials("r.example", env)).toEqual({
      kind: "identity-token",
      token: "idt",
    });
  });

  test("credHelpers per registry, through docker-credential-<name>", async () => {
    const env = await dockerConfig({ credHelpers: { "helped.example": "fake" } });
    expect(await findCredentials("helped.example", env)).toEqual(
      basic("helper-user", "helper-secret"),
    );
  });

  test("credsStore for every registry; <token> marks an identity token; unknown hosts get none", async () => {
    const env = await dockerConfig({ credsStore: "fake", auths: { "store.example": {} } });
    expect(await findCredentials("store.example", env)).toEqual({
      kind: "identity-token",
      token: "refresh-123",
    });
    expect(await findCredentials("nowhere.example", env)).toBeUndefined();
  });

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
    ).toEqual(basic("c", "d"));
  });
});
