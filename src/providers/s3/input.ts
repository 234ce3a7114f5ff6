// s3 input: lists the keys under a prefix in key order and emits each object's rows (Parquet, or
// JSON lines plain, gzip or zstd) as events; the checkpoint is the last key read to its end, so a
// restart lists after it (an object cut short by a crash is read again from its first row).
import { gunzipSync } from "node:zlib";
import type { FileMetaData } from "hyparquet";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { Checkpoint, defineInput } from "../../sdk/index.ts";
import { answered, connect, describeS3Error, probe, type S3Target } from "./client.ts";
import { durationMs, type S3InputConfig, s3InputConfigSchema } from "./schema.ts";

export { s3InputConfigSchema };

type Kind = "parquet" | "jsonl" | "jsonl.gz" | "jsonl.zst";

/** What a key holds, by its ending (and the format setting); undefined: skipped. */
export function kindOf(key: string, format: S3InputConfig["format"]): Kind | undefined {
  const lower = key.toLowerCase();
  const jsonl = /\.(jsonl|ndjson|json)(\.gz|\.zst)?$/.exec(lower);
  if (lower.endsWith(".parquet")) return format === "jsonl" ? undefined : "parquet";
  if (!jsonl || format === "parquet") return undefined;
  return jsonl[2] === ".gz" ? "jsonl.gz" : jsonl[2] === ".zst" ? "jsonl.zst" : "jsonl";
}

/** The key to list after: the checkpoint `{"key": "..."}`, or "" on a first run. */
export function resumeKey(checkpoint: unknown): string {
  if (checkpoint === null || checkpoint === undefined) return "";
  const key = (checkpoint as { key?: unknown }).key;
  if (typeof key !== "string")
    throw new Error(
      `s3: checkpoint ${JSON.stringify(checkpoint)} is not an s3 position ({"key": "..."}); reset it with dstream state reset`,
    );
  return key;
}

async function* listAfter(target: S3Target, prefix: string, after: string): AsyncGenerator<string> {
  let continuationToken: string | undefined;
  for (;;) {
    let page: Awaited<ReturnType<Bun.S3Client["list"]>>;
    try {
      page = await answered(
        target,
        target.client.list({
          prefix,
          maxKeys: 1000,
          ...(continuationToken ? { continuationToken } : after ? { startAfter: after } : {}),
        }),
      );
    } catch (error) {
      throw describeS3Error(error, target, `listing ${prefix || "the bucket"}`);
    }
    for (const item of page.contents ?? []) if (item.key > after) yield item.key;
    if (!page.isTruncated || !page.nextContinuationToken) return;
    continuationToken = page.nextContinuationToken;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON text of a Parquet value: bigints as digits, Dates as RFC 3339, bytes as base64. */
function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "string":
    case "boolean":
      return JSON.stringify(value);
  }
  if (value instanceof RawJson) return value.text;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (Array.isArray(value)) return `[${value.map(jsonValue).join(",")}]`;
  const fields = Object.entries(value as Record<string, unknown>).map(
    ([key, inner]) => `${JSON.stringify(key)}:${jsonValue(inner)}`,
  );
  return `{${fields.join(",")}}`;
}

/** A JSON column's text, written into the event as the value it holds. */
class RawJson {
  constructor(readonly text: string) {}
}

/** Microsecond timestamps keep their microseconds (hyparquet's default Date keeps milliseconds). */
function microsIso(micros: bigint): string {
  const millis = micros / 1000n;
  const rest = Number(((micros % 1000n) + 1000n) % 1000n);
  const iso = new Date(Number(millis)).toISOString();
  return rest === 0 ? iso : `${iso.slice(0, 23)}${String(rest).padStart(3, "0")}Z`;
}

const parsers = {
  timestampFromMicroseconds: (micros: bigint) => microsIso(micros),
  jsonFromBytes: (bytes: Uint8Array) => bytes && new RawJson(decoder.decode(bytes)),
};

/** Columns with the JSON logical type (hyparquet reads only the converted type as JSON). */
function jsonColumns(metadata: FileMetaData): Set<string> {
  return new Set(
    metadata.schema
      .filter(
        (element) => element.logical_type?.type === "JSON" || element.converted_type === "JSON",
      )
      .map((element) => element.name),
  );
}

/** Decimal columns and their scale: hyparquet gives doubles, written back with `scale` decimals. */
function decimalColumns(metadata: FileMetaData): Map<string, number> {
  return new Map(
    metadata.schema
      .filter((element) => element.converted_type === "DECIMAL")
      .map((element) => [element.name, element.scale ?? 0]),
  );
}

function envelope(data: string, bucket: string, key: string, row: number): string {
  return `{"data":${data},"metadata":{"provider":"s3","bucket":${JSON.stringify(bucket)},"key":${JSON.stringify(key)},"row":${row}}}\n`;
}

/** One object's rows as JSON-lines chunks of about 1 MiB. */
async function* readObject(target: S3Target, key: string, kind: Kind): AsyncGenerator<Uint8Array> {
  let bytes: ArrayBuffer;
  try {
    bytes = await answered(target, target.client.file(key).arrayBuffer());
  } catch (error) {
    throw describeS3Error(error, target, `reading ${key}`);
  }
  let text = "";
  let row = 0;
  const flushAt = 1 << 20;
  if (kind === "parquet") {
    let metadata: FileMetaData;
    try {
      metadata = parquetMetadata(bytes);
    } catch (error) {
      throw new Error(`s3: ${key} is not a Parquet file (${(error as Error).message})`);
    }
    const json = jsonColumns(metadata);
    const decimals = decimalColumns(metadata);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = (await parquetReadObjects({
        file: bytes,
        metadata,
        compressors,
        parsers,
        rowStart,
        rowEnd,
      })) as Record<string, unknown>[];
      for (const record of rows) {
        for (const column of json) {
          const value = record[column];
          if (typeof value === "string") record[column] = new RawJson(value);
        }
        for (const [column, scale] of decimals) {
          const value = record[column];
          if (typeof value === "number" && Number.isFinite(value))
            record[column] = new RawJson(value.toFixed(scale));
        }
        text += envelope(jsonValue(record), target.bucket, key, ++row);
        if (text.length >= flushAt) {
          yield encoder.encode(text);
          text = "";
        }
      }
      rowStart = rowEnd;
    }
  } else {
    let raw: Uint8Array = new Uint8Array(bytes);
    try {
      if (kind === "jsonl.gz") raw = gunzipSync(raw);
      if (kind === "jsonl.zst") raw = Bun.zstdDecompressSync(raw);
    } catch (error) {
      throw new Error(`s3: ${key} does not decompress as ${kind} (${(error as Error).message})`);
    }
    for (const line of decoder.decode(raw).split("\n")) {
      const trimmed = line.trim();
      if (trimmed === "") continue;
      row++;
      try {
        JSON.parse(trimmed);
      } catch {
        throw new Error(`s3: ${key} line ${row} is not valid JSON`);
      }
      text += envelope(trimmed, target.bucket, key, row);
      if (text.length >= flushAt) {
        yield encoder.encode(text);
        text = "";
      }
    }
  }
  if (text) yield encoder.encode(text);
}

export const s3Input = defineInput({
  schema: s3InputConfigSchema,
  async *run(config, context) {
    const target = connect(config);
    await probe(target);
    let after = resumeKey(context.checkpoint);
    const pollMs = durationMs(config.poll_interval);
    for (;;) {
      for await (const key of listAfter(target, config.prefix, after)) {
        if (context.signal.aborted) return;
        const kind = kindOf(key, config.format);
        if (kind) yield* readObject(target, key, kind);
        // Read to its end (or skipped): resume after it.
        after = key;
        yield new Checkpoint({ key });
      }
      if (!config.follow || context.signal.aborted) return;
      await context.sleep(pollMs);
      if (context.signal.aborted) return;
    }
  },
});
