// A registry whose HTTPS cannot work: a plain TCP server on its port, a certificate that is
// self-signed, for another name, or expired. Another try cannot change any of them: one try, one
// line naming the registry and the fix. 0.0.0.0 reaches a local server without being loopback, so
// dstream speaks HTTPS to it.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runDstream } from "../../helpers/registry.ts";

const selfSigned = join(import.meta.dir, "../providers/http-tls");
const expired = join(import.meta.dir, "tls");

interface Served {
  cert?: string;
  key?: string;
}

/** A server on 0.0.0.0 that counts its connections: TLS with `served`'s certificate, else plain. */
function server(served: Served) {
  let connections = 0;
  const tls =
    served.cert && served.key
      ? { tls: { cert: readFileSync(served.cert, "utf8"), key: readFileSync(served.key, "utf8") } }
      : {};
  const listener = Bun.listen({
    hostname: "0.0.0.0",
    port: 0,
    ...tls,
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

describe("a registry whose HTTPS cannot work: one try, and the fix", () => {
  test.each<[string, Served, Record<string, string>, string]>([
    [
      "a plain TCP server on the port",
      {},
      {},
      "EPROTO (the HTTPS handshake failed; if the registry serves plain HTTP, list {registry} in DSTREAM_INSECURE_REGISTRIES; dstream tried 1 time)",
    ],
    [
      "a self-signed certificate",
      { cert: join(selfSigned, "cert.pem"), key: join(selfSigned, "key.pem") },
      {},
      "DEPTH_ZERO_SELF_SIGNED_CERT (the certificate of registry {registry} is not signed by a CA dstream trusts: add that CA with NODE_EXTRA_CA_CERTS=<file.pem>; dstream tried 1 time)",
    ],
    [
      "a trusted certificate for another name (127.0.0.1)",
      { cert: join(selfSigned, "cert.pem"), key: join(selfSigned, "key.pem") },
      { NODE_EXTRA_CA_CERTS: join(selfSigned, "cert.pem") },
      "ERR_TLS_CERT_ALTNAME_INVALID (the certificate of registry {registry} is not issued for that name: use the name it was issued for; dstream tried 1 time)",
    ],
    [
      "a trusted certificate that expired",
      { cert: join(expired, "expired-cert.pem"), key: join(expired, "expired-key.pem") },
      { NODE_EXTRA_CA_CERTS: join(expired, "expired-cert.pem") },
      "CERT_HAS_EXPIRED (the certificate of registry {registry} is outside its validity dates: the registry must renew it (or this machine's clock is wrong); dstream tried 1 time)",
    ],
  ])("%s", async (_name, served, env, said) => {
    const { listener, connections } = server(served);
    try {
      const registry = `0.0.0.0:${listener.port}`;
      const reference = `${registry}/acme/x:v1`;
      const result = await runDstream(["providers", "inspect", reference], { env });
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        exitCode: 1,
        stderr: `error: cannot reach registry ${registry} for ${reference}: ${said.replaceAll("{registry}", registry)}\n`,
      });
      // dstream has exited: its one connection is closed (the server hears of it within 2 s).
      for (let waited = 0; connections() < 1 && waited < 2_000; waited += 20) await Bun.sleep(20);
      expect(connections()).toBe(1);
    } finally {
      listener.stop(true);
    }
  });
});
