// postgres output figures (issue 10): file -> postgres through `dstream run` in insert, upsert and
// replicate modes, beside `psql -c "\copy ..."` of the same rows, on the server of
// test/services/postgres.sh, interleaved in one run.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { startPostgres } from "./postgres-service.ts";
import { machineLine } from "./timing.ts";

const ROWS = Number(process.env.BENCH_POSTGRES_ROWS ?? 500_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DATABASE = "dstream_bench_output";

function psql(url: string, args: string[]): void {
  const result = Bun.spawnSync(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
  if (result.exitCode !== 0) throw new Error(`psql ${args.join(" ")}: ${result.stderr}`);
}

function scalar(url: string, query: string): string {
  const result = Bun.spawnSync(["psql", "-X", "-A", "-t", "-d", url, "-c", query], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return result.stdout.toString().trim();
}

const columns = "id bigint PRIMARY KEY, name text, email text, amount numeric, status text";

function row(id: number, status = "active") {
  return {
    id,
    name: `customer ${id}`,
    email: `customer${id}@example.com`,
    amount: `${id % 1000}.5`,
    status,
  };
}

function dataJson(id: number, status?: string): string {
  const values = row(id, status);
  return `{"id":${values.id},"name":"${values.name}","email":"${values.email}","amount":${values.amount},"status":"${values.status}"}`;
}

/** The output's default batch_rows: the batched psql baseline copies this many rows per COPY. */
const BATCH_ROWS = 20_000;

/**
 * The same rows three ways: CSV for \copy (whole, and cut into files of BATCH_ROWS rows with a
 * psql script copying each), events for insert/upsert, postgres-cdc events.
 */
async function writeInputs(folder: string): Promise<{
  events: string;
  csv: string;
  batchedCopies: string;
  cdc: string;
  cdcChanges: number;
  bytes: number;
}> {
  const csv = join(folder, "rows.csv");
  const batchedCopies = join(folder, "batched-copies.sql");
  const copies: string[] = [];
  let part: ReturnType<ReturnType<typeof Bun.file>["writer"]> | undefined;
  const events = join(folder, "events.jsonl");
  const cdc = join(folder, "cdc.jsonl");
  const csvWriter = Bun.file(csv).writer({ highWaterMark: 1 << 22 });
  const eventWriter = Bun.file(events).writer({ highWaterMark: 1 << 22 });
  const cdcWriter = Bun.file(cdc).writer({ highWaterMark: 1 << 22 });
  let bytes = 0;
  let sequence = 0;
  const change = (operation: string, data: string, before?: number) =>
    `{"data":${data},"metadata":{"table":"public.replica","operation":"${operation}","lsn":"0/${(++sequence).toString(16)}","sequence":${sequence},"source":"postgres-cdc"${before === undefined ? "" : `,"before":{"id":${before}}`}}}\n`;
  for (let id = 1; id <= ROWS; id++) {
    const values = row(id);
    const csvRow = `${id},${values.name},${values.email},${values.amount},${values.status}\n`;
    csvWriter.write(csvRow);
    if ((id - 1) % BATCH_ROWS === 0) {
      await part?.end();
      const path = join(folder, `rows-${copies.length}.csv`);
      copies.push(`\\copy copied FROM '${path}' WITH (FORMAT csv)`);
      part = Bun.file(path).writer();
    }
    part?.write(csvRow);
    const line = `{"data":${dataJson(id)},"metadata":{"table":"orders","operation":"insert","sequence":${id}}}\n`;
    bytes += line.length;
    eventWriter.write(line);
    // A CDC mix: every event an insert, and for every 10th an update and a delete of older rows.
    cdcWriter.write(change("insert", dataJson(id)));
    if (id % 10 === 0) cdcWriter.write(change("update", dataJson(id - 5, "updated")));
    if (id % 10 === 0) cdcWriter.write(change("delete", "null", id - 7));
  }
  await Promise.all([csvWriter.end(), eventWriter.end(), cdcWriter.end(), part?.end()]);
  writeFileSync(batchedCopies, `${copies.join("\n")}\n`);
  return { events, csv, batchedCopies, cdc, cdcChanges: sequence, bytes };
}

async function timed(argv: string[], cwd: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(argv, { cwd, stdout: "ignore", stderr: "pipe" });
  const stderr = new Response(child.stderr).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await stderr}`);
  return (performance.now() - started) / 1000;
}

function taskConfig(path: string, name: string, events: string, output: string): string {
  const hcl = `task "${name}" {
  input {
    provider = "file"
    config {
      path   = "${events}"
      format = "raw"
    }
  }
  output {
    provider = "postgres"
    config {
${output}
    }
  }
}
`;
  writeFileSync(path, hcl);
  return path;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const rate = (rows: number, seconds: number) => Math.round(rows / seconds).toLocaleString("en-US");

export default async function postgresOutputBench(): Promise<string> {
  const server = startPostgres();
  psql(server, ["-c", `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`]);
  psql(server, ["-c", `CREATE DATABASE ${DATABASE}`]);
  const url = new URL(server);
  url.pathname = `/${DATABASE}`;
  const db = url.toString();
  const binary = await buildBenchBinary();
  const folder = binary.folder;
  const inputs = await writeInputs(folder);
  const timings = {
    copy: [] as number[],
    batchedCopy: [] as number[],
    psqlUpsert: [] as number[],
    provider: [] as number[],
    insert: [] as number[],
    upsert: [] as number[],
    replicate: [] as number[],
  };
  const alone = join(folder, "provider-input.jsonl");
  const envelope = {
    command: "run",
    protocol: 2,
    checkpoint: null,
    config: { connection_string: db, table: "inserted" },
  };
  writeFileSync(alone, `${JSON.stringify(envelope)}\n${await Bun.file(inputs.events).text()}`);
  const run = (config: string, task: string) =>
    timed([binary.path, "run", task, "-c", config, "--quiet"], folder);
  try {
    for (let round = 1; round <= RUNS; round++) {
      psql(db, [
        "-c",
        `DROP TABLE IF EXISTS copied, inserted, upserted, replica; CREATE TABLE copied (${columns}); CREATE TABLE inserted (${columns}); CREATE TABLE upserted (${columns}); CREATE TABLE replica (${columns})`,
      ]);
      timings.copy.push(
        await timed(
          [
            "psql",
            "-X",
            "-q",
            "-d",
            db,
            "-c",
            `\\copy copied FROM '${inputs.csv}' WITH (FORMAT csv)`,
          ],
          folder,
        ),
      );
      // psql again, one COPY (a transaction) per BATCH_ROWS rows, as the output commits them.
      psql(db, ["-c", "TRUNCATE copied"]);
      timings.batchedCopy.push(
        await timed(["psql", "-X", "-q", "-d", db, "-f", inputs.batchedCopies], folder),
      );
      // The output alone, fed the envelope and the events from a file: dstream's relay left out.
      psql(db, ["-c", "TRUNCATE inserted"]);
      timings.provider.push(
        await timed(
          ["sh", "-c", `DSTREAM_ROLE=output "${binary.path}" __provider postgres < "${alone}"`],
          folder,
        ),
      );
      psql(db, ["-c", "TRUNCATE inserted"]);
      rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      const insert = taskConfig(
        join(folder, "insert.hcl"),
        "insert",
        inputs.events,
        `      connection_string = "${db}"\n      table = "inserted"`,
      );
      timings.insert.push(await run(insert, "insert"));
      // Upsert over the rows already there: every event an ON CONFLICT update. Baseline: psql
      // doing the same with \copy into a temporary table and one INSERT ... ON CONFLICT.
      psql(db, ["-c", "INSERT INTO upserted SELECT * FROM copied"]);
      timings.psqlUpsert.push(
        await timed(
          [
            "psql",
            "-X",
            "-q",
            "-d",
            db,
            "-c",
            "CREATE TEMP TABLE staged AS SELECT * FROM copied WITH NO DATA",
            "-c",
            `\\copy staged FROM '${inputs.csv}' WITH (FORMAT csv)`,
            "-c",
            "INSERT INTO copied SELECT * FROM staged ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, amount = EXCLUDED.amount, status = EXCLUDED.status",
          ],
          folder,
        ),
      );
      rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      const upsert = taskConfig(
        join(folder, "upsert.hcl"),
        "upsert",
        inputs.events,
        `      connection_string = "${db}"\n      table = "upserted"\n      mode = "upsert"`,
      );
      timings.upsert.push(await run(upsert, "upsert"));
      rmSync(join(folder, ".dstream"), { recursive: true, force: true });
      const replicate = taskConfig(
        join(folder, "replicate.hcl"),
        "replicate",
        inputs.cdc,
        `      connection_string = "${db}"\n      mode = "replicate"`,
      );
      timings.replicate.push(await run(replicate, "replicate"));
      for (const table of ["copied", "inserted", "upserted"]) {
        const count = scalar(db, `SELECT count(*) FROM ${table}`);
        if (count !== String(ROWS)) throw new Error(`${table} holds ${count} rows, not ${ROWS}`);
      }
    }
  } finally {
    binary.remove();
    psql(server, ["-c", `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`]);
  }
  const copy = median(timings.copy);
  const batchedCopy = median(timings.batchedCopy);
  const psqlUpsert = median(timings.psqlUpsert);
  const provider = median(timings.provider);
  const insert = median(timings.insert);
  const upsert = median(timings.upsert);
  const replicate = median(timings.replicate);
  const rows = ROWS.toLocaleString("en-US");
  return `## PostgreSQL output (issue 10)

${machineLine()}; PostgreSQL ${scalar(server, "SHOW server_version")} from test/services/postgres.sh on the same machine
(fsync off); ${rows} rows of 5 columns (events of ${Math.round(inputs.bytes / ROWS)} B); median of ${RUNS}
interleaved runs. dstream figures are whole \`dstream run\` invocations (file input, raw) with the
default batch settings, so they include starting dstream, both providers and the connection.

| What | Seconds | Rows/s | Beside \\copy |
| --- | --- | --- | --- |
| \`psql -c "\\copy t FROM 'rows.csv' WITH (FORMAT csv)"\` | ${copy.toFixed(2)} | ${rate(ROWS, copy)} | baseline |
| \`psql -f\` of one \`\\copy\` per ${BATCH_ROWS.toLocaleString("en-US")} rows (a transaction each, as the output's default batches) | ${batchedCopy.toFixed(2)} | ${rate(ROWS, batchedCopy)} | ${(copy / batchedCopy).toFixed(2)} |
| the postgres output alone (\`dstream __provider postgres < envelope+events\`), insert | ${provider.toFixed(2)} | ${rate(ROWS, provider)} | ${(copy / provider).toFixed(2)} |
| file -> postgres, mode = "insert" | ${insert.toFixed(2)} | ${rate(ROWS, insert)} | ${(copy / insert).toFixed(2)} |
| \`psql\`: \`\\copy\` into a temporary table, then one \`INSERT ... ON CONFLICT (id) DO UPDATE\` over rows all there | ${psqlUpsert.toFixed(2)} | ${rate(ROWS, psqlUpsert)} | ${(copy / psqlUpsert).toFixed(2)} (upsert baseline) |
| file -> postgres, mode = "upsert", every row already there (all ON CONFLICT updates) | ${upsert.toFixed(2)} | ${rate(ROWS, upsert)} | ${(copy / upsert).toFixed(2)}; ${(psqlUpsert / upsert).toFixed(2)} of the psql upsert |
| file -> postgres, mode = "replicate", ${inputs.cdcChanges.toLocaleString("en-US")} postgres-cdc events (inserts, and per 10 an update and a delete) | ${replicate.toFixed(2)} | ${rate(inputs.cdcChanges, replicate)} events/s | ${(copy / ROWS / (replicate / inputs.cdcChanges)).toFixed(2)} |

Insert and upsert take stdin's chunks as they come (the SDK's writeRaw): each event becomes a COPY
row in JavaScript straight from its bytes (about 0.55 µs a row), no object per line, while the
server writes the previous batch; a batch's data goes right behind its COPY statement, without
waiting for the server's answer. An insert batch of one column set is one COPY, a transaction by
itself. The server then does the same work as for psql's batched \\copy: what remains between
the output and the one-COPY baseline is mostly the server's cost per COPY (the batched psql row),
the price of committing every batch_rows rows, plus starting dstream and its providers.
Upsert pays the server's ON CONFLICT updates (the psql upsert row is its own
ceiling). Replicate reads every event with JSON.parse to learn its table, operation and key, then
writes the net effect of each stretch of one table's events (one DELETE and one COPY-staged
upsert per stretch), stretches in stream order so foreign keys hold.
`;
}
