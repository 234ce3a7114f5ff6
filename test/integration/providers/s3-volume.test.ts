// 1,000,000 rows through the compiled binary's s3 output into SeaweedFS: resident memory stays flat
// (sampled from /proc while rows stream in) and duckdb finds every row once.
import { beforeAll, expect, test } from "bun:test";
import { dstreamBinary } from "../../helpers/binary.ts";
import { residentBytes, startProvider } from "./helpers.ts";
import {
  connection,
  countObjects,
  createBucket,
  type S3Server,
  s3Server,
  uniqueBucket,
} from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
  await dstreamBinary();
}, 1_200_000);

const ROWS = 1_000_000;
const CHUNK = 10_000;

function chunk(first: number): string {
  let text = "";
  for (let n = first; n < first + CHUNK; n++) {
    text += `{"data":{"id":${n},"name":"user-${n % 1000}","amount":${(n % 10_000) / 100},"ok":${n % 2 === 0},"at":"2026-12-04T12:00:00Z","tags":{"k":${n % 7}}},"metadata":{"sequence":${n}}}\n`;
  }
  return text;
}

test("1,000,000 rows: memory flat, every row in an object once", async () => {
  const bucket = uniqueBucket("volume");
  await createBucket(server, bucket);
  const provider = startProvider([await dstreamBinary(), "__provider", "s3"], {
    role: "output",
    firstLine: JSON.stringify({
      command: "run",
      config: { ...connection(server.endpoint, bucket), max_rows: 250_000 },
      protocol: 2,
      checkpoint: null,
    }),
  });
  const samples: { rows: number; rss: number }[] = [];
  for (let first = 1; first <= ROWS; first += CHUNK) {
    provider.child.stdin.write(chunk(first));
    await provider.child.stdin.flush();
    if ((first - 1) % 50_000 === 0) {
      samples.push({ rows: first - 1, rss: await residentBytes(provider.child.pid) });
    }
  }
  provider.end();
  const result = await provider.finish(120_000);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toContain("wrote 4 object(s)");

  // Flat: the peak over the second half is within 100 MiB of the peak over the first half (a leak
  // of even 100 bytes a row would add 50 MB over the second half alone).
  const peak = (from: number, to: number) =>
    Math.max(...samples.filter((s) => s.rows >= from && s.rows < to).map((s) => s.rss));
  const firstHalf = peak(100_000, ROWS / 2);
  const secondHalf = peak(ROWS / 2, ROWS);
  expect(secondHalf - firstHalf).toBeLessThan(100 * 1024 * 1024);
  expect(secondHalf).toBeLessThan(600 * 1024 * 1024);

  const objects = await countObjects(server, bucket, "id");
  expect(objects.map((object) => object.key)).toEqual([
    "00000000000000000001.parquet",
    "00000000000000250001.parquet",
    "00000000000000500001.parquet",
    "00000000000000750001.parquet",
  ]);
  for (const object of objects) {
    expect(object.rows).toBe(250_000);
    expect(object.duckdb_count).toBe(250_000);
    expect(object.distinct).toBe(250_000);
  }
  expect(objects.reduce((sum, object) => sum + object.sum, 0)).toBe((ROWS * (ROWS + 1)) / 2);
}, 300_000);
