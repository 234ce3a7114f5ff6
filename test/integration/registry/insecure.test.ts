// HTTPS is the default for any registry host that is not loopback; DSTREAM_INSECURE_REGISTRIES
// allows plain HTTP for listed hosts. 0.0.0.0 reaches the local registry without being loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningRegistry, runDstream, startRegistry } from "../../helpers/registry.ts";

let registry: RunningRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

describe("HTTPS unless loopback or DSTREAM_INSECURE_REGISTRIES", () => {
  test("a plain-HTTP registry under a non-loopback name is reached only when listed", async () => {
    const host = `0.0.0.0:${registry.host.split(":")[1]}`;
    const reference = `${host}/acme/absent:v1`;
    const overHttps = await runDstream(["providers", "inspect", reference]);
    expect(overHttps.stderr).toBe(
      `error: cannot reach registry ${host} for ${reference}: EPROTO (the HTTPS handshake failed; if the registry serves plain HTTP, list ${host} in DSTREAM_INSECURE_REGISTRIES; dstream tried 1 time)\n`,
    );
    expect(overHttps.exitCode).toBe(1);

    const listed = await runDstream(["providers", "inspect", reference], {
      env: { DSTREAM_INSECURE_REGISTRIES: `other.example, ${host}` },
    });
    // Reached over HTTP: the registry itself answers that the tag does not exist.
    expect(listed.stderr).toBe(
      `error: the manifest of ${reference} was not found in registry ${host} (404): check the repository name and the tag or digest\n`,
    );
    expect(listed.exitCode).toBe(1);
  });
});
