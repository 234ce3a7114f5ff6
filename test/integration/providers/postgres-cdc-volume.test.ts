// postgres-cdc copies a 1,000,000-row table in its snapshot with flat memory: the compiled binary's
// resident size is sampled while a reader counts lines; late samples stay near early ones.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { baseEnv, dstreamBinary } from "../../helpers/binary.ts";
import { residentBytes } from "./helpers.ts";
import { cdcConfig, cdcDatabase, dropCdcDatabases, ready } from "./postgres-cdc-helpers.ts";
import { psql, startPostgres } from "./postgres-helpers.ts";

beforeAll(async () => {
  startPostgres();
  await dstreamBinary();
}, 600_000);
afterAll(() => dropCdcDatabases(), 120_000);

const ROWS = 1_000_000;
const MiB = 1024 * 1024;

test("a 1,000,000-row snapshot with flat memory", async () => {
  const db = await cdcDatabase("million");
  await psql(
    db.url,
    `CREATE TABLE big (id int8 PRIMARY KEY, amount numeric, note text, at timestamptz);
     INSERT INTO big SELECT i, i * 1.25, 'row number ' || i, '2026-01-01'::timestamptz + i * interval '1 second'
       FROM generate_series(1, ${ROWS}) i;`,
  );
  const child = Bun.spawn([await dstreamBinary(), "__provider", "postgres-cdc"], {
    env: { ...baseEnv(), DSTREAM_TASK: "million", DSTREAM_ROLE: "input" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  child.stdin.write(
    `${JSON.stringify({ command: "run", config: cdcConfig(db, { tables: ["big"] }), protocol: 2, checkpoint: null })}\n`,
  );
  child.stdin.flush();
  const samples: { events: number; rss: number }[] = [];
  let events = 0;
  let lastLine = "";
  let done = false;
  const sampler = setInterval(() => {
    residentBytes(child.pid)
      .then((rss) => samples.push({ events, rss }))
      .catch(() => {});
  }, 200);
  const decoder = new TextDecoder();
  let carry = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 400_000);
  for await (const bytes of child.stdout) {
    const text = carry + decoder.decode(bytes, { stream: true });
    const lines = text.split("\n");
    carry = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith('{"data"')) events++;
      else if (line.startsWith('{"checkpoint"')) lastLine = line;
      else if (line !== ready) throw new Error(`unexpected line: ${line.slice(0, 200)}`);
    }
    if (!done && lastLine.includes('"phase":"stream"')) {
      done = true;
      child.kill("SIGTERM");
    }
  }
  clearInterval(sampler);
  clearTimeout(timer);
  const exitCode = await child.exited;
  const stderr = await new Response(child.stderr).text();
  expect(`${exitCode} ${stderr.includes("error") ? stderr : ""}`).toBe("0 ");
  expect(events).toBe(ROWS);
  expect(JSON.parse(lastLine)).toMatchObject({ checkpoint: { phase: "stream", sequence: ROWS } });
  const early = samples.filter((sample) => sample.events >= 50_000 && sample.events < 250_000);
  const late = samples.filter((sample) => sample.events >= 750_000);
  expect(early.length).toBeGreaterThan(0);
  expect(late.length).toBeGreaterThan(0);
  const earlyMax = Math.max(...early.map((sample) => sample.rss));
  const lateMax = Math.max(...late.map((sample) => sample.rss));
  // Flat: the last quarter holds about what the first did, give or take the collector's rhythm
  // (holding the rows would add some 150 MiB between the two: 500,000 lines of ~300 bytes).
  expect(lateMax).toBeLessThan(earlyMax + 100 * MiB);
  expect(lateMax).toBeLessThan(400 * MiB);
  process.stderr.write(
    `postgres-cdc 1M-row snapshot: rss early max ${(earlyMax / MiB).toFixed(0)} MiB, late max ${(lateMax / MiB).toFixed(0)} MiB\n`,
  );
}, 600_000);
