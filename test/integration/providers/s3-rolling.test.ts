// s3 output rolling by max_bytes and max_age against SeaweedFS (test/services/s3.sh): objects close
// while the stream still runs, with no checkpoint to acknowledge, and every row lands once.
import { beforeAll, describe, expect, test } from "bun:test";
import { launchers, startProvider } from "./helpers.ts";
import {
  connection,
  createBucket,
  listKeys,
  readObjects,
  type S3Server,
  s3Server,
  uniqueBucket,
  waitForKey,
} from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
}, 1_200_000);

/** A protocol v1 envelope: the output is never asked to flush, so only its own rules close objects. */
const envelopeV1 = (config: Record<string, unknown>) => JSON.stringify({ command: "run", config });

/** Rows of varied length, so byte limits fall at other rows than any row count would. */
const line = (sequence: number) =>
  `${JSON.stringify({ data: { n: sequence, pad: "x".repeat(20 + ((sequence * 53) % 140)) }, metadata: { provider: "test", sequence } })}\n`;

const name = (sequence: number, format: "parquet" | "jsonl") =>
  `${String(sequence).padStart(20, "0")}${format === "parquet" ? ".parquet" : ".jsonl.gz"}`;

const sequences = (format: "parquet" | "jsonl", rows: Record<string, unknown>[]) =>
  rows.map((row) => (format === "parquet" ? row.n : (row.data as { n: number }).n) as number);

describe.each(launchers)("s3 output rolling ($label)", (launcher) => {
  test.each(["parquet", "jsonl"] as const)(
    "max_bytes (%s): an object closes at the row that takes it to max_bytes, mid-stream; every row once",
    async (format) => {
      const bucket = uniqueBucket(`bytes-${format}`);
      await createBucket(server, bucket);
      const maxBytes = 1024;
      const provider = startProvider(await launcher.command("s3"), {
        role: "output",
        firstLine: envelopeV1({
          ...connection(server.endpoint, bucket),
          format,
          max_bytes: maxBytes,
        }),
      });
      const total = 60;
      const lines = Array.from({ length: total }, (_, index) => line(index + 1));
      const bytesOf = (sequence: number) => Buffer.byteLength(lines[sequence - 1] as string);
      // Just enough rows to pass max_bytes once: the first object must appear while stdin is open.
      let firstRows = 0;
      for (let bytes = 0; bytes < maxBytes; ) bytes += bytesOf(++firstRows);
      provider.write(lines.slice(0, firstRows).join(""));
      await waitForKey(server, bucket, name(1, format));
      expect(await listKeys(server, bucket)).toEqual([name(1, format)]);
      provider.write(lines.slice(firstRows).join(""));
      provider.end();
      const result = await provider.finish();
      expect(result.exitCode).toBe(0);

      const objects = await readObjects(server, bucket);
      const held = objects.map((object) => sequences(format, object.rows));
      expect(held.flat()).toEqual(Array.from({ length: total }, (_, index) => index + 1));
      expect(held[0]?.length).toBe(firstRows);
      expect(objects.length).toBeGreaterThanOrEqual(5);
      objects.forEach((object, index) => {
        const rows = held[index] as number[];
        expect(object.key).toBe(name(rows[0] as number, format));
        expect(object.duckdb_count).toBe(rows.length);
        const bytes = rows.reduce((sum, sequence) => sum + bytesOf(sequence), 0);
        const withoutLast = bytes - bytesOf(rows.at(-1) as number);
        // Every object but the last was closed by the row that took it to max_bytes; the last by
        // the end of the stream, before it got there.
        if (index < objects.length - 1) {
          expect(bytes).toBeGreaterThanOrEqual(maxBytes);
          expect(withoutLast).toBeLessThan(maxBytes);
        } else {
          expect(bytes).toBeLessThan(maxBytes);
        }
      });
    },
    60_000,
  );

  test.each(["parquet", "jsonl"] as const)(
    'max_age = "2s" (%s): an object closes once its first row is 2 s old, not sooner; a 1h twin holds all',
    async (format) => {
      const maxAgeMs = 2000;
      const aged = uniqueBucket(`age-${format}`);
      const twin = uniqueBucket(`age-twin-${format}`);
      await Promise.all([createBucket(server, aged), createBucket(server, twin)]);
      const start = async (bucket: string, maxAge: string) =>
        startProvider(await launcher.command("s3"), {
          role: "output",
          firstLine: envelopeV1({
            ...connection(server.endpoint, bucket),
            format,
            max_age: maxAge,
          }),
        });
      // The twin differs only in max_age: whatever it closes before the end, age did not close.
      const providers = [await start(aged, "2s"), await start(twin, "1h")];
      const send = (text: string) => {
        for (const provider of providers) provider.write(text);
        return Date.now();
      };

      let sentAt = send(line(1));
      await waitForKey(server, aged, name(1, format));
      // A lower bound only: the timer starts when the row arrives, after it was sent.
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(maxAgeMs - 50);
      expect(await listKeys(server, twin)).toEqual([]);

      // The next object's age counts from its own first row, not from when the last one closed.
      await Bun.sleep(700);
      sentAt = send(line(2) + line(3));
      await waitForKey(server, aged, name(2, format));
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(maxAgeMs - 50);
      expect(await listKeys(server, twin)).toEqual([]);

      for (const provider of providers) provider.end();
      for (const provider of providers) {
        const result = await provider.finish();
        expect(result.exitCode).toBe(0);
        expect(result.stdout).not.toContain('"checkpoint"');
      }
      const agedObjects = await readObjects(server, aged);
      expect(agedObjects.map((object) => [object.key, sequences(format, object.rows)])).toEqual([
        [name(1, format), [1]],
        [name(2, format), [2, 3]],
      ]);
      const twinObjects = await readObjects(server, twin);
      expect(twinObjects.map((object) => [object.key, sequences(format, object.rows)])).toEqual([
        [name(1, format), [1, 2, 3]],
      ]);
    },
    60_000,
  );
});
