// kafka over the broker's SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and its SSL
// listener: the output produces and the input consumes; a refused password or certificate is one
// line, with no password in it, within seconds; so is a listener reached without the SASL or TLS
// it requires.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dstreamBinary, runDstream } from "../../helpers/binary.ts";
import { startProvider } from "./helpers.ts";
import {
  createTopic,
  envelope,
  lastCheckpoint,
  readTopic,
  saslBroker,
  saslUser,
  startKafka,
  stopProvider,
  tlsBroker,
  uniqueTopic,
  waitForEvents,
} from "./kafka-helpers.ts";

let binary = "";
let sasl = "";
let tls = { address: "", caFile: "" };
const folders: string[] = [];
beforeAll(async () => {
  await startKafka();
  sasl = await saslBroker();
  tls = await tlsBroker();
  binary = await dstreamBinary();
}, 600_000);
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const ready = '{"status":"ready","protocol":2}\n';
const wrongPassword = "not-the-password-4711";

function event(sequence: number): string {
  return JSON.stringify({ data: { n: sequence }, metadata: { sequence } });
}

/** The output produces 50 events and a checkpoint; kcat (plaintext) reads them back. */
async function produceThrough(connection: Record<string, unknown>, topic: string) {
  const events = Array.from({ length: 50 }, (_, index) => event(index + 1));
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "output",
    firstLine: envelope({ ...connection, topic }),
  });
  provider.write(`${events.join("\n")}\n{"checkpoint":50}\n`);
  provider.end();
  const result = await provider.finish(60_000);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(`${ready}{"checkpoint":50}\n`);
  expect(await readTopic(topic, "%s\\n")).toEqual(events);
  return events;
}

/** The input reads the topic back as a new group. */
async function consumeThrough(connection: Record<string, unknown>, topic: string) {
  const provider = startProvider([binary, "__provider", "kafka"], {
    role: "input",
    firstLine: envelope({
      ...connection,
      topics: [topic],
      group_id: uniqueTopic("g"),
      session_timeout_ms: 6000,
    }),
  });
  const lines = await waitForEvents(provider, 50);
  const result = await stopProvider(provider);
  expect(result.exitCode).toBe(0);
  expect(lastCheckpoint(lines)).toEqual({ offsets: { [topic]: { "0": 50 } } });
  return lines.filter((line) => line.metadata).map((line) => line.data);
}

describe("kafka over SASL and TLS (compiled binary, real broker)", () => {
  test.each(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])(
    "SASL %s: the output produces and the input consumes",
    async (mechanism) => {
      const topic = uniqueTopic(`sasl-${mechanism}`);
      await createTopic(topic);
      const connection = { bootstrap_servers: sasl, sasl: { mechanism, ...saslUser } };
      const events = await produceThrough(connection, topic);
      const read = await consumeThrough(connection, topic);
      expect(read).toEqual(events.map((line) => JSON.parse(line)));
    },
    90_000,
  );

  test("TLS with ca_file (the broker's self-signed certificate): the output produces and the input consumes", async () => {
    const topic = uniqueTopic("tls");
    await createTopic(topic);
    const connection = { bootstrap_servers: tls.address, tls: { ca_file: tls.caFile } };
    const events = await produceThrough(connection, topic);
    expect(await consumeThrough(connection, topic)).toEqual(events.map((line) => JSON.parse(line)));
  }, 90_000);
});

describe("kafka authentication errors (compiled binary, real broker)", () => {
  test("a wrong password fails dstream run with exit code 1 and one line naming user, mechanism and broker; no password", async () => {
    const topic = uniqueTopic("sasl-wrong");
    await createTopic(topic);
    const folder = mkdtempSync(join(tmpdir(), "dstream-kafka-auth-"));
    folders.push(folder);
    writeFileSync(
      join(folder, "dstream.hcl"),
      `task "t" {
  input {
    provider = "counter"
    config {
      interval = 10
      maxCount = 5
    }
  }
  output {
    provider = "kafka"
    config {
      bootstrap_servers = "${sasl}"
      topic             = "${topic}"
      sasl {
        mechanism = "SCRAM-SHA-256"
        username  = "dstream"
        password  = "{{ env \\"KAFKA_PASSWORD\\" }}"
      }
    }
  }
}
`,
    );
    const started = Date.now();
    const result = await runDstream(["run", "t", "-c", join(folder, "dstream.hcl"), "--quiet"], {
      env: { KAFKA_PASSWORD: wrongPassword },
      timeoutMs: 60_000,
    });
    const message = `kafka: authentication failed as "dstream" (SCRAM-SHA-256) at ${sasl}; check sasl.username and sasl.password`;
    expect(result.exitCode).toBe(1);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toStartWith(
      `error: task "t": output provider kafka exited with code 1: ${message}`,
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrongPassword);
    // A refused password is not retried for connect_timeout_ms (10 s): it will not change.
    expect(Date.now() - started).toBeLessThan(9000);
    expect(await readTopic(topic)).toEqual([]);
  }, 60_000);

  test.each(["PLAIN", "SCRAM-SHA-512"])(
    "the input with a wrong %s password: one line, exit code 1, no password, within seconds",
    async (mechanism) => {
      const started = Date.now();
      const provider = startProvider([binary, "__provider", "kafka"], {
        role: "input",
        firstLine: envelope({
          bootstrap_servers: sasl,
          sasl: { mechanism, username: "dstream", password: wrongPassword },
          topics: ["t"],
          group_id: "g",
        }),
      });
      const result = await provider.finish(40_000);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `error: kafka: authentication failed as "dstream" (${mechanism}) at ${sasl}; check sasl.username and sasl.password\n`,
      );
      expect(result.stdout).not.toContain(wrongPassword);
      expect(Date.now() - started).toBeLessThan(9000);
    },
    60_000,
  );

  test.each(["output", "input"] as const)(
    "the %s on the SASL listener without a sasl block: the broker closes the connection at once, said in one line within seconds",
    async (role) => {
      const started = Date.now();
      const provider = startProvider([binary, "__provider", "kafka"], {
        role,
        firstLine: envelope({
          bootstrap_servers: sasl,
          ...(role === "output" ? { topic: "t" } : { topics: ["t"], group_id: "g" }),
        }),
      });
      if (role === "output") provider.write(`${event(1)}\n`);
      provider.end();
      const result = await provider.finish(40_000);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `error: kafka: the brokers ${sasl} closed the connection at once: does it require SASL or TLS? set sasl { } or tls\n`,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    },
    60_000,
  );

  test("plaintext to the SSL listener: one line saying it answered in TLS, within seconds", async () => {
    const started = Date.now();
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "output",
      firstLine: envelope({ bootstrap_servers: tls.address, topic: "t" }),
    });
    provider.write(`${event(1)}\n`);
    provider.end();
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: the brokers ${tls.address} answered in TLS; set tls (true, or tls { ca_file = ... })\n`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  test("TLS without the broker's CA: one line saying its certificate is not trusted", async () => {
    const started = Date.now();
    const provider = startProvider([binary, "__provider", "kafka"], {
      role: "output",
      firstLine: envelope({ bootstrap_servers: tls.address, tls: true, topic: "t" }),
    });
    provider.write(`${event(1)}\n`);
    provider.end();
    const result = await provider.finish(40_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: kafka: the TLS certificate of ${tls.address} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); set tls.ca_file to the CA that signed it\n`,
    );
    expect(Date.now() - started).toBeLessThan(9000);
  }, 60_000);
});
