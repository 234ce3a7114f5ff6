// postgres-cdc -> postgres (replicate) through `dstream run` (compiled binary) against the real
// PostgreSQL: a live workload of inserts, updates (a key change among them) and deletes, dstream
// killed with SIGKILL in the middle, then a restart; the replica ends equal to the source, by psql.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import { cdcDatabase, dropCdcDatabases } from "./postgres-cdc-helpers.ts";
import {
  createDatabase,
  dropDatabase,
  psql,
  startPostgres,
  uniqueDatabaseName,
} from "./postgres-helpers.ts";

const folder = mkdtempSync(join(tmpdir(), "dstream-replica-"));
const replicaName = uniqueDatabaseName("replica");
beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await dropDatabase(replicaName);
  await dropCdcDatabases();
}, 120_000);

const TABLE = `CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(20, 4), tags text[], doc jsonb)`;

/** The table's rows in key order, as psql prints them: what "equal" means. */
const rowsOf = (url: string) =>
  psql(url, "SELECT id, owner, balance, tags, doc FROM accounts ORDER BY id");

/** 1,500 transactions (several seconds): inserts, updates (some moving a row to a new key) and deletes. */
function workload(url: string): Promise<string> {
  return psql(
    url,
    `DO $$ BEGIN
       FOR t IN 1..1500 LOOP
         INSERT INTO accounts VALUES (10000 + t, 'owner ' || t, t * 1.25, ARRAY['a', t::text], jsonb_build_object('t', t));
         UPDATE accounts SET balance = balance + 1, tags = tags || 'u'::text WHERE id = 1 + (t * 7) % 1000;
         IF t % 10 = 0 THEN DELETE FROM accounts WHERE id = 1 + (t * 13) % 1000; END IF;
         IF t % 25 = 0 THEN UPDATE accounts SET id = 50000 + t WHERE id = 10000 + t - 1; END IF;
         COMMIT;
         PERFORM pg_sleep(0.005);
       END LOOP;
     END $$;`,
  );
}

test("kill -9 of dstream mid-workload, then a restart: the replica equals the source", async () => {
  const source = await cdcDatabase("replica_source");
  await psql(
    source.url,
    `${TABLE};
     INSERT INTO accounts SELECT i, 'owner ' || i, i * 0.5, ARRAY['s'], '{"s":true}' FROM generate_series(1, 1000) i;`,
  );
  const replica = await createDatabase(replicaName);
  await psql(replica, TABLE);
  const config = join(folder, "dstream.hcl");
  writeFileSync(
    config,
    `task "replica" {
  input {
    provider = "postgres-cdc"
    config {
      connection_string = "${source.url}"
      tables            = ["accounts"]
      slot              = "${source.slot}"
      publication       = "${source.publication}"
    }
  }
  output {
    provider = "postgres"
    config {
      connection_string = "${replica}"
      mode              = "replicate"
    }
  }
}
`,
  );
  const binary = await dstreamBinary();
  const start = () =>
    Bun.spawn([binary, "run", "replica", "-c", config, "--quiet"], {
      env: baseEnv(),
      stdout: "ignore",
      stderr: "pipe",
    });

  let loadDone = false;
  const load = workload(source.url).then(() => {
    loadDone = true;
  });
  const first = start();
  // Killed once the snapshot is in the replica and the stream has run a while.
  const started = Date.now();
  for (;;) {
    const count = Number(await psql(replica, "SELECT count(*) FROM accounts"));
    if (count >= 1000 && Date.now() - started > 3000) break;
    if (Date.now() - started > 120_000) throw new Error("the snapshot did not reach the replica");
    await Bun.sleep(200);
  }
  // In the middle of the workload, or the test proves less than it says.
  expect(loadDone).toBe(false);
  first.kill("SIGKILL");
  await first.exited;
  await load;

  // The restart catches up; stopped once the replica has stayed equal for a moment.
  const second = start();
  const expected = await rowsOf(source.url);
  const until = Date.now() + 120_000;
  while (Date.now() < until && (await rowsOf(replica)) !== expected) await Bun.sleep(500);
  second.kill("SIGTERM");
  const [exitCode, stderr] = await Promise.all([second.exited, new Response(second.stderr).text()]);
  expect({ exitCode, errors: stderr.split("\n").filter((line) => line.includes("error")) }).toEqual(
    {
      exitCode: 0,
      errors: [],
    },
  );
  expect(await rowsOf(replica)).toBe(expected);
  expect(Number(await psql(replica, "SELECT count(*) FROM accounts"))).toBeGreaterThan(1000);
}, 300_000);
