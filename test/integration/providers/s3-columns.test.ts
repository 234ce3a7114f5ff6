// s3 output columns against SeaweedFS, read back by pyarrow and duckdb: inferred types kept from
// object to object, and rows whose fields cannot be columns as given (no fields, a metadata
// column's name, names that differ only in case) each a decision, not a silent loss.
import { beforeAll, describe, expect, test } from "bun:test";
import { launchers, startProvider } from "./helpers.ts";
import {
  connection,
  createBucket,
  readDataset,
  readObjects,
  type S3Server,
  s3Server,
  uniqueBucket,
} from "./s3-helpers.ts";

let server: S3Server;
beforeAll(async () => {
  server = await s3Server();
}, 1_200_000);

const envelope = (config: Record<string, unknown>) =>
  JSON.stringify({ command: "run", config, protocol: 2, checkpoint: null });

const event = (sequence: number, data: unknown) =>
  `${JSON.stringify({ data, metadata: { provider: "test", sequence } })}\n`;

describe.each(launchers)("s3 output columns ($label)", (launcher) => {
  async function run(config: Record<string, unknown>, input: string) {
    const provider = startProvider(await launcher.command("s3"), {
      role: "output",
      firstLine: envelope(config),
    });
    provider.write(input);
    provider.end();
    return provider.finish();
  }

  test("types are kept from object to object: int64 widens to double once and stays; a number in a string column is its text", async () => {
    const bucket = uniqueBucket("drift");
    await createBucket(server, bucket);
    const result = await run(
      { ...connection(server.endpoint, bucket), prefix: "drift/", max_rows: 1 },
      event(1, { id: 1, amount: 5, note: null }) +
        event(2, { amount: 5.5, note: "x" }) +
        event(3, { amount: 7, note: 7 }),
    );
    expect(result.exitCode).toBe(0);
    const objects = await readObjects(server, bucket, "drift/");
    expect(objects.map((object) => [object.key, object.schema])).toEqual([
      ["drift/00000000000000000001.parquet", { id: "int64", amount: "int64", note: "string" }],
      ["drift/00000000000000000002.parquet", { id: "int64", amount: "double", note: "string" }],
      ["drift/00000000000000000003.parquet", { id: "int64", amount: "double", note: "string" }],
    ]);
    const expected = [
      { id: 1, amount: 5, note: null },
      { id: null, amount: 5.5, note: "x" },
      { id: null, amount: 7, note: "7" },
    ];
    const dataset = await readDataset(server, bucket, "drift/");
    expect(dataset.schema).toEqual({ id: "int64", amount: "double", note: "string" });
    expect(dataset.rows).toEqual(expected);
    // duckdb's union_by_name reads 5.5 as 5.5 (by the first file's int64 it would be 6).
    expect(dataset.duckdb).toEqual(expected);
  }, 60_000);

  test("data {}: an all-null row once columns are known; before that one line naming the sequence", async () => {
    const bucket = uniqueBucket("empty");
    await createBucket(server, bucket);
    const known = await run(
      { ...connection(server.endpoint, bucket), prefix: "known/", max_rows: 2 },
      event(1, { a: 1 }) + event(2, {}) + event(3, {}) + event(4, { a: 4 }),
    );
    expect(known.exitCode).toBe(0);
    const objects = await readObjects(server, bucket, "known/");
    expect(objects.flatMap((object) => object.rows)).toEqual([
      { a: 1 },
      { a: null },
      { a: null },
      { a: 4 },
    ]);
    expect(objects.map((object) => object.duckdb_count)).toEqual([2, 2]);

    const withMetadata = await run(
      {
        ...connection(server.endpoint, bucket),
        prefix: "metadata/",
        metadata_columns: ["sequence"],
      },
      event(1, {}),
    );
    expect(withMetadata.exitCode).toBe(0);
    expect((await readObjects(server, bucket, "metadata/"))[0]?.rows).toEqual([
      { metadata_sequence: 1 },
    ]);

    const first = await run(
      { ...connection(server.endpoint, bucket), prefix: "first/" },
      event(7, {}),
    );
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toBe(
      'error: s3: sequence 7: data has no fields and no column is known yet, so it cannot be a Parquet row (send it after events with fields, add metadata_columns, declare a schema block, or use format = "jsonl")\n',
    );
    expect(await readObjects(server, bucket, "first/")).toEqual([]);
  }, 60_000);

  test("a data field named like a metadata column is one line, not an overwrite", async () => {
    const bucket = uniqueBucket("collide");
    await createBucket(server, bucket);
    const result = await run(
      { ...connection(server.endpoint, bucket), metadata_columns: ["sequence"] },
      event(1, { a: 1 }) + event(2, { a: 2, metadata_sequence: 99 }),
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: s3: field "metadata_sequence" at sequence 2 has the name of the column metadata_columns makes for "sequence" (rename the field, or take "sequence" out of metadata_columns)\n',
    );
    expect(await readObjects(server, bucket)).toEqual([]);
  }, 60_000);

  test.each([
    ["in one event", event(1, { Id: 1, id: 2 }), "at sequence 1"],
    ["across objects", event(1, { Id: 1 }) + event(2, { id: 2 }), "at sequence 2"],
  ])(
    "fields that differ only in case (%s) are one line",
    async (_label, input, where) => {
      const bucket = uniqueBucket("case");
      await createBucket(server, bucket);
      const result = await run({ ...connection(server.endpoint, bucket), max_rows: 1 }, input);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `error: s3: fields "Id" and "id" (${where}) differ only in case; Athena, Spark and Hive fold column names, so they would be one column (rename one in the data, or use format = "jsonl")\n`,
      );
    },
    60_000,
  );
});
