// postgres-cdc -> postgres (replicate) through `dstream run` of the compiled binary: a source database
// with its slot, a replica database holding the same DDL, the task's file, and waits on psql.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import { type CdcDatabase, cdcDatabase, dropCdcDatabases } from "./postgres-cdc-helpers.ts";
import { createDatabase, dropDatabase, psql, uniqueDatabaseName } from "./postgres-helpers.ts";

/** A `dstream run replica`: the process, and its whole stderr once it has exited. */
export interface ReplicaRun {
  child: Subprocess<"ignore", "ignore", "pipe">;
  stderr: Promise<string>;
}

export interface ReplicaTask {
  source: CdcDatabase;
  replica: string;
  start(): Promise<ReplicaRun>;
}

const folders: string[] = [];
const replicas: string[] = [];

/** Settings as HCL lines: strings quoted, numbers as they are. */
function hclSettings(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([name, value]) => `      ${name} = ${typeof value === "number" ? value : `"${value}"`}`)
    .join("\n");
}

/** A source and a replica, both holding `ddl`, the source also `seed`, and the task joining them. */
export async function replicaTask(
  label: string,
  ddl: string,
  options: {
    input?: Record<string, string | number>;
    output?: Record<string, string | number>;
    tables: string[];
    seed?: string;
  },
): Promise<ReplicaTask> {
  const source = await cdcDatabase(`${label}_src`);
  await psql(source.url, ddl);
  if (options.seed) await psql(source.url, options.seed);
  const replicaName = uniqueDatabaseName(`${label}_replica`);
  replicas.push(replicaName);
  const replica = await createDatabase(replicaName);
  await psql(replica, ddl);
  const folder = mkdtempSync(join(tmpdir(), "dstream-replica-"));
  folders.push(folder);
  const config = join(folder, "dstream.hcl");
  writeFileSync(
    config,
    `task "replica" {
  input {
    provider = "postgres-cdc"
    config {
${hclSettings({ connection_string: source.url, slot: source.slot, publication: source.publication, ...options.input })}
      tables = ${JSON.stringify(options.tables)}
    }
  }
  output {
    provider = "postgres"
    config {
${hclSettings({ connection_string: replica, mode: "replicate", ...options.output })}
    }
  }
}
`,
  );
  const binary = await dstreamBinary();
  return {
    source,
    replica,
    start: async () => {
      const child = Bun.spawn([binary, "run", "replica", "-c", config, "--quiet"], {
        env: baseEnv(),
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
      return { child, stderr: new Response(child.stderr).text() };
    },
  };
}

/** Drops every database made here (the sources' slots first) and the task folders. */
export async function cleanUpReplicas(): Promise<void> {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  for (const name of replicas.splice(0)) await dropDatabase(name).catch(() => {});
  await dropCdcDatabases();
}

/**
 * Waits until `query` gives the same rows on the replica as on the source; fails with the run's
 * stderr when the run exits first, or naming both sides after `timeoutMs`.
 */
export async function waitUntilEqual(
  task: ReplicaTask,
  run: ReplicaRun,
  query: string,
  timeoutMs = 60_000,
): Promise<string> {
  const expected = await psql(task.source.url, query);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await psql(task.replica, query);
    if (actual === expected) return actual;
    if (run.child.exitCode !== null) {
      throw new Error(
        `dstream run exited ${run.child.exitCode} before the replica caught up:\n${await run.stderr}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `took too long: the replica differs from the source\nsource:\n${expected}\nreplica:\n${actual}`,
      );
    }
    await Bun.sleep(200);
  }
}

/** Stops the run with SIGTERM (SIGKILL after 30 s); its exit code and stderr. */
export async function stopRun(run: ReplicaRun): Promise<{ exitCode: number; stderr: string }> {
  run.child.kill("SIGTERM");
  const timer = setTimeout(() => run.child.kill("SIGKILL"), 30_000);
  const [exitCode, stderr] = await Promise.all([run.child.exited, run.stderr]);
  clearTimeout(timer);
  return { exitCode, stderr };
}
