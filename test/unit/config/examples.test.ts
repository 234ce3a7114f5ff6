// The forms DStream users already write (shared/examples) and the repository's examples all load.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import { fixedNow, userExampleEnv } from "./harness.ts";

const repoRoot = resolve(import.meta.dir, "../../..");
const fixture = join(repoRoot, "test/fixtures/dstream-user-examples.hcl");
const sharedCopy = resolve(repoRoot, "../shared/examples/dstream-user-examples.hcl");

describe("user examples", () => {
  test.if(existsSync(sharedCopy))("the committed fixture equals shared/examples", () => {
    expect(readFileSync(fixture, "utf8")).toBe(readFileSync(sharedCopy, "utf8"));
  });

  test("every task loads with its env vars set, each value as written", async () => {
    const savedZone = process.env.TZ;
    process.env.TZ = "UTC"; // the date template renders in the local zone
    // cache: false, so the HCL parser itself reads the file (and nothing lands in ~/.cache).
    const options = { flag: fixture, env: userExampleEnv, now: fixedNow, cache: false };
    const config = await loadConfig(options).finally(() => {
      if (savedZone === undefined) delete process.env.TZ;
      else process.env.TZ = savedZone;
    });
    const summary: unknown[] = config.tasks.map((task) => ({
      name: task.name,
      type: task.type,
      input: [task.input.source, task.input.config],
      output: [task.output.source, task.output.config],
    }));
    const ref = (original: string) => {
      const [path = "", tag = ""] = original.split(":");
      const [registry, ...repository] = path.split("/");
      return {
        kind: "ref",
        reference: { registry, repository: repository.join("/"), tag, original },
      };
    };
    const folder = join(repoRoot, "test/fixtures");
    expect(summary).toEqual([
      {
        name: "my-pipeline",
        type: "providers",
        input: [
          ref("ghcr.io/writeameer/dstream-counter-input-provider:v0.3.0"),
          { interval: 1000, maxCount: 5 },
        ],
        output: [
          ref("ghcr.io/writeameer/dstream-console-output-provider:v0.3.0"),
          { outputFormat: "simple" },
        ],
      },
      {
        name: "sql-to-kafka",
        type: "providers",
        input: [
          ref("ghcr.io/katasec/mssql-cdc-provider:v1.2.0"),
          {
            connection_string: userExampleEnv.DATABASE_CONNECTION_STRING,
            tables: ["Orders", "Customers", "Inventory"],
            polling_interval: 1000,
            batch_size: 100,
          },
        ],
        output: [
          ref("ghcr.io/katasec/kafka-provider:v1.1.0"),
          {
            bootstrap_servers: userExampleEnv.KAFKA_SERVERS,
            topic_prefix: "data_events",
            serialization: "json",
          },
        ],
      },
      {
        name: "api-to-s3",
        type: "providers",
        input: [
          ref("ghcr.io/community/rest-api-provider:v2.0.0"),
          {
            endpoint: "https://api.example.com/events",
            auth_token: "token-123",
            poll_interval: 30000,
          },
        ],
        output: [
          ref("ghcr.io/aws/s3-provider:v1.0.0"),
          { bucket: "my-data-lake", prefix: "events/2026-03-04/", format: "parquet" },
        ],
      },
      {
        name: "local-dev",
        type: "providers",
        input: [
          {
            kind: "path",
            path: resolve(folder, "../my-custom-provider/out/my-provider"),
            written: "../my-custom-provider/out/my-provider",
          },
          {},
        ],
        output: [
          ref("ghcr.io/writeameer/dstream-console-output-provider:v0.3.0"),
          { outputFormat: "structured" },
        ],
      },
      {
        name: "ingest-with-lock",
        type: "providers",
        input: [
          { kind: "path", path: join(folder, "bin/ingester"), written: "./bin/ingester" },
          {
            db_connection_string: userExampleEnv.DB_CONN,
            lock_config: { type: "none" },
            tables: ["Persons"],
          },
        ],
        output: [{ kind: "builtin", name: "console" }, {}],
      },
    ]);
  });
});

describe("repository examples", () => {
  const folder = join(repoRoot, "examples");
  const files = readdirSync(folder).filter((name) => name.endsWith(".hcl"));

  test("there is at least one", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)("examples/%s loads", async (name) => {
    // Examples may read env vars (a user sets them to run); loading must not depend on them.
    const config = await loadConfig({
      flag: join(folder, name),
      env: {},
      requireEnv: false,
      cache: false,
    });
    expect(config.tasks.length).toBeGreaterThan(0);
  });
});
