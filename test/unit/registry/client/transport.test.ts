import { afterAll, describe, expect, spyOn, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { registryBaseUrl, requestWithRetry } from "../../../../src/registry/client/transport.ts";

describe("registryBaseUrl: HTTPS except loopback and DSTREAM_INSECURE_REGISTRIES", () => {
  test.each([
    ["ghcr.io", {}, "https://ghcr.io"],
    ["docker.io", {}, "https://registry-1.docker.io"],
    ["localhost:5000", {}, "http://localhost:5000"],
    ["localhost", {}, "http://localhost"],
    ["127.0.0.1:5000", {}, "http://127.0.0.1:5000"],
    ["127.8.9.10:443", {}, "http://127.8.9.10:443"],
    ["[::1]:5000", {}, "http://[::1]:5000"],
    ["registry.lan:5000", {}, "https://registry.lan:5000"],
    [
      "registry.lan:5000",
      { DSTREAM_INSECURE_REGISTRIES: "other.lan, registry.lan:5000" },
      "http://registry.lan:5000",
    ],
    ["registry.lan", { DSTREAM_INSECURE_REGISTRIES: "registry.lan:5000" }, "https://registry.lan"],
    ["127.evil.example", {}, "https://127.evil.example"],
  ])("%s %j -> %s", (registry, env, url) => {
    expect(registryBaseUrl(registry, env)).toBe(url);
  });
});

/** Answers at once, then sends `chunks` pieces of body `gapMs` apart (forever when chunks is 0). */
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    const url = new URL(request.url);
    const chunks = Number(url.searchParams.get("chunks"));
    const gapMs = Number(url.searchParams.get("gap"));
    let sent = 0;
    return new Response(
      new ReadableStream({
        async pull(controller) {
          if (sent > 0) await Bun.sleep(chunks === 0 ? 60_000 : gapMs);
          if (chunks !== 0 && sent === chunks) return controller.close();
          sent++;
          controller.enqueue(new TextEncoder().encode("x"));
        },
      }),
    );
  },
});
afterAll(() => server.stop(true));

const registry = `127.0.0.1:${server.port}`;
// Gaps stay 400 ms or more away from the timeout, so a loaded machine does not flip a result.
const get = (query: string) =>
  requestWithRetry(`http://${registry}/?${query}`, {
    subject: `${registry}/a:v1`,
    registry,
    timeoutMs: 600,
  });

describe("requestWithRetry: waits bounded by progress", () => {
  test("a body that keeps coming outlasts the timeout", async () => {
    const response = await get("chunks=8&gap=150");
    expect(await response.text()).toBe("xxxxxxxx");
  });

  test("the body's clock starts when it is read, not when the answer came", async () => {
    const response = await get("chunks=3&gap=200");
    await Bun.sleep(1_000);
    expect(await response.text()).toBe("xxx");
  });

  test("a body that stops is abandoned after the timeout", async () => {
    const response = await get("chunks=0&gap=0");
    await expect(response.text()).rejects.toThrow(`no data from registry ${registry} for 0.6 s`);
  });
});

describe("requestWithRetry: what another try cannot change", () => {
  test("a malformed URL is tried once", async () => {
    // Backoff sleeps through Bun.sleep: watched instead of timed, so a loaded machine cannot flip it.
    const sleeps = spyOn(Bun, "sleep");
    const failed = requestWithRetry("http://127.0.0.1:99999/v2/", {
      subject: "127.0.0.1:99999/a:v1",
      registry: "127.0.0.1:99999",
      timeoutMs: 1_000,
    });
    await expect(failed).rejects.toThrow(
      "cannot reach registry 127.0.0.1:99999 for 127.0.0.1:99999/a:v1: ERR_INVALID_URL (check the address and that the registry is up; dstream tried 1 time)",
    );
    // No backoff was slept (the first retry alone would wait 200 ms).
    expect(sleeps).not.toHaveBeenCalled();
    sleeps.mockRestore();
  });
});

describe("requestWithRetry: a TLS failure is tried once", () => {
  const tls = join(import.meta.dir, "../../../integration/providers/http-tls");
  /** A server that closes every connection: `tls` makes it speak TLS with a self-signed cert. */
  function server(withTls: boolean) {
    let connections = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      ...(withTls
        ? {
            tls: {
              cert: readFileSync(join(tls, "cert.pem"), "utf8"),
              key: readFileSync(join(tls, "key.pem"), "utf8"),
            },
          }
        : {}),
      socket: {
        data(socket) {
          socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
        },
        close() {
          connections++;
        },
      },
    });
    return { listener, connections: () => connections };
  }

  test.each([
    [
      "a plain TCP server on the port",
      false,
      "EPROTO (the HTTPS handshake failed; if the registry serves plain HTTP, list {registry} in DSTREAM_INSECURE_REGISTRIES; dstream tried 1 time)",
    ],
    [
      "a self-signed certificate",
      true,
      "DEPTH_ZERO_SELF_SIGNED_CERT (the certificate of registry {registry} is not signed by a CA dstream trusts: add that CA with NODE_EXTRA_CA_CERTS=<file.pem>; dstream tried 1 time)",
    ],
  ])("%s: one try, no backoff, the fix named", async (_name, withTls, said) => {
    const { listener, connections } = server(withTls);
    const registry = `127.0.0.1:${listener.port}`;
    const sleeps = spyOn(Bun, "sleep");
    try {
      const failed = requestWithRetry(`https://${registry}/v2/`, {
        subject: `${registry}/a:v1`,
        registry,
        timeoutMs: 5_000,
      });
      await expect(failed).rejects.toThrow(
        `cannot reach registry ${registry} for ${registry}/a:v1: ${said.replaceAll("{registry}", registry)}`,
      );
      expect(sleeps).not.toHaveBeenCalled();
      // The server saw its one connection close (bounded wait for the event).
      for (let waited = 0; connections() < 1 && waited < 2_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(connections()).toBe(1);
    } finally {
      sleeps.mockRestore();
      listener.stop(true);
    }
  });
});
