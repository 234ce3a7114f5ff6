// Basic auth through the registry's htpasswd backend: credentials from DSTREAM_REGISTRY_USERNAME/
// PASSWORD and from ~/.docker/config.json (whose entry for the registry wins); clear errors without
// them, with wrong ones, or with half the env pair.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPlatform, hostPlatform } from "../../../src/oci/index.ts";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

const host = formatPlatform(hostPlatform());
const username = "alice";
const password = "s3cret:with-colon";
let registry: RunningRegistry;
let folder: string;
let reference: string;

async function project(env: Record<string, string>) {
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

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "dstream-basic-"));
  registry = await startRegistry({ auth: { kind: "htpasswd", username, password } });
  reference = `${registry.host}/private/tool:v1`;
});
afterAll(async () => {
  await registry?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("Basic auth (htpasswd)", () => {
  test("push and pull with DSTREAM_REGISTRY_USERNAME/PASSWORD; docker config auths; errors", async () => {
    const binary = join(folder, "tool");
    await writeFile(binary, "#!/bin/sh\necho private\n");
    await chmod(binary, 0o755);
    const credentials = {
      DSTREAM_REGISTRY_USERNAME: username,
      DSTREAM_REGISTRY_PASSWORD: password,
    };

    const anonymousPush = await runDstream(
      ["providers", "push", reference, "--platform", `${host}=${binary}`],
      { env: { HOME: folder } },
    );
    expect(anonymousPush.stderr).toBe(
      `error: registry ${registry.host} needs credentials for ${reference} (401 Unauthorized): log in with docker login ${registry.host}, or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD\n`,
    );
    expect(anonymousPush.exitCode).toBe(1);

    const pushed = await runDstream(
      ["providers", "push", reference, "--platform", `${host}=${binary}`],
      {
        env: { HOME: folder, ...credentials },
      },
    );
    expect(pushed.stderr).toBe("");
    expect(pushed.exitCode).toBe(0);

    const withEnv = await project(credentials);
    expect(withEnv.stderr).toBe("");
    expect(withEnv.exitCode).toBe(0);
    expect(withEnv.stdout).toStartWith(`${reference}  ${host}  sha256:`);

    const anonymous = await project({});
    expect(anonymous.stderr).toBe(
      `error: registry ${registry.host} needs credentials for ${reference} (401 Unauthorized): log in with docker login ${registry.host}, or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD\n`,
    );
    expect(anonymous.exitCode).toBe(1);

    const wrong = await project({
      DSTREAM_REGISTRY_USERNAME: username,
      DSTREAM_REGISTRY_PASSWORD: "nope",
    });
    expect(wrong.stderr).toBe(
      `error: registry ${registry.host} rejected the credentials for ${reference} (401 Unauthorized): check DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD\n`,
    );
    expect(wrong.exitCode).toBe(1);

    // `docker login` leaves base64 user:password under auths.
    const dockerHome = join(folder, "docker-home");
    await mkdir(join(dockerHome, ".docker"), { recursive: true });
    const auth = Buffer.from(`${username}:${password}`).toString("base64");
    await writeFile(
      join(dockerHome, ".docker", "config.json"),
      JSON.stringify({ auths: { [registry.host]: { auth } } }),
    );
    const withDockerConfig = await project({ HOME: dockerHome });
    expect(withDockerConfig.stderr).toBe("");
    expect(withDockerConfig.exitCode).toBe(0);
  });

  test("the docker config's entry for the registry wins over the env pair, which serves the rest", async () => {
    const home = async (name: string, pass: string) => {
      const dir = join(folder, name);
      await mkdir(join(dir, ".docker"), { recursive: true });
      const auth = Buffer.from(`${username}:${pass}`).toString("base64");
      await writeFile(
        join(dir, ".docker", "config.json"),
        JSON.stringify({ auths: { [registry.host]: { auth } } }),
      );
      return dir;
    };
    const wrongEnv = { DSTREAM_REGISTRY_USERNAME: username, DSTREAM_REGISTRY_PASSWORD: "nope" };
    const right = await project({ HOME: await home("right-home", password), ...wrongEnv });
    expect(right.stderr).toBe("");
    expect(right.exitCode).toBe(0);

    const wrongHome = await home("wrong-home", "stale");
    const stale = await project({
      HOME: wrongHome,
      DSTREAM_REGISTRY_USERNAME: username,
      DSTREAM_REGISTRY_PASSWORD: password,
    });
    expect(stale.stderr).toBe(
      `error: registry ${registry.host} rejected the credentials for ${reference} from ${join(wrongHome, ".docker", "config.json")} (401 Unauthorized): docker login ${registry.host} again (a docker config entry wins over DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD)\n`,
    );
    expect(stale.exitCode).toBe(1);

    const half = await project({ DSTREAM_REGISTRY_USERNAME: username });
    expect(half.stderr).toBe(
      "error: DSTREAM_REGISTRY_USERNAME is set but DSTREAM_REGISTRY_PASSWORD is not: set both, or neither to use only ~/.docker/config.json\n",
    );
    expect(half.exitCode).toBe(2);
  });
});
