// s3 output settings: loadable without the provider (and without any S3 or Parquet code).
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";

const positiveInteger = (min: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be a whole number"),
    v.minValue(min, `must be ${min} or more`),
  );

/** A duration such as "90s", "5m", "1h", "500ms". */
export const durationPattern = /^(\d+)(ms|s|m|h)$/;

export function durationMs(text: string): number {
  const match = durationPattern.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

/** Column types a `schema { }` block may name (see docs/s3.md, "Types"). */
export const declaredTypes = [
  "string",
  "int64",
  "double",
  "boolean",
  "timestamp",
  "json",
  "decimal",
] as const;
export type DeclaredType = (typeof declaredTypes)[number];

/** `decimal(p,s)` with 1 <= p <= 38, 0 <= s <= p. */
export const decimalPattern = /^decimal\((\d{1,2}),\s*(\d{1,2})\)$/;

const columnType = v.pipe(
  v.string("must be a type name"),
  v.check(
    (text) =>
      (declaredTypes as readonly string[]).includes(text) ||
      (decimalPattern.test(text) &&
        ((p, s) => p >= 1 && p <= 38 && s <= p)(
          Number(decimalPattern.exec(text)?.[1]),
          Number(decimalPattern.exec(text)?.[2]),
        )),
    `must be one of ${declaredTypes.filter((t) => t !== "decimal").join(", ")}, decimal(p,s)`,
  ),
);

/** Where the bucket is and the keys to it: the same settings for the input and the output. */
const connectionEntries = {
  /** S3 API address for S3-compatible stores (MinIO, SeaweedFS, R2); default: AWS for `region`. */
  endpoint: v.optional(v.pipe(v.string("must be a string"), v.url("must be a URL"))),
  /** The bucket's region; default AWS_REGION, then the profile's region, then us-east-1. */
  region: v.optional(v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"))),
  /** path (endpoint/bucket/key), virtual (bucket.endpoint/key), or auto: path with an endpoint. */
  addressing: v.optional(
    v.picklist(["auto", "path", "virtual"], 'must be "auto", "path" or "virtual"'),
    "auto",
  ),
  /** Access key id; default: AWS_ACCESS_KEY_ID, then the profile's (use {{ env "..." }}). */
  access_key_id: v.optional(v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"))),
  /** Secret access key; default: AWS_SECRET_ACCESS_KEY, then the profile's. Never logged. */
  secret_access_key: v.optional(
    v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
  ),
  /** Session token for temporary credentials; default: AWS_SESSION_TOKEN, then the profile's. */
  session_token: v.optional(v.string("must be a string")),
  /** Profile in ~/.aws/credentials and ~/.aws/config; default: AWS_PROFILE, then "default". */
  profile: v.optional(v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"))),
  /** How long one S3 request (or upload step) may go unanswered before the task fails ("30s"). */
  request_timeout: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.regex(durationPattern, 'must be like "30s", "2m"'),
      v.check((text) => !durationPattern.test(text) || durationMs(text) > 0, "must be more than 0"),
    ),
    "30s",
  ),
};

export const s3OutputConfigSchema = v.pipe(
  configObject({
    /** The bucket objects are written to (it must exist: `dstream init` offers to create it). */
    bucket: v.pipe(v.string("must be a string"), v.nonEmpty("is required")),
    /** Key prefix of every object, e.g. "events/2026-12-04/"; "" writes at the bucket's root. */
    prefix: v.optional(v.string("must be a string"), ""),
    /** parquet (columns from the top-level fields of `data`) or jsonl (one envelope per line). */
    format: v.optional(v.picklist(["parquet", "jsonl"], 'must be "parquet" or "jsonl"'), "parquet"),
    /** parquet: snappy or zstd (none for neither); jsonl: gzip, zstd or none. Default: snappy / gzip. */
    compression: v.optional(
      v.picklist(["snappy", "zstd", "gzip", "none"], 'must be "snappy", "zstd", "gzip" or "none"'),
    ),
    ...connectionEntries,
    /** An object is closed once it holds this many rows. */
    max_rows: v.optional(positiveInteger(1), 1_000_000),
    /** An object is closed once its rows (as JSON lines) pass this many bytes. */
    max_bytes: v.optional(positiveInteger(1024), 128 * 1024 * 1024),
    /**
     * An object is closed once its first row is this old ("90s", "5m", "1h"); checkpoints are
     * acknowledged only as objects complete, so this also bounds how late they are.
     */
    max_age: v.optional(
      v.pipe(v.string("must be a string"), v.regex(durationPattern, 'must be like "90s", "5m"')),
      "1m",
    ),
    /** Rows per Parquet row group. */
    row_group_rows: v.optional(positiveInteger(1), 50_000),
    /** Metadata fields written as Parquet columns named metadata_<field> (e.g. ["sequence"]). */
    metadata_columns: v.optional(v.array(v.string("must be a string"), "must be a list"), []),
    /**
     * Columns and their types (string, int64, double, boolean, timestamp, json, decimal(p,s));
     * default: inferred from the rows, kept from object to object for the run.
     */
    schema: v.optional(v.record(v.string(), columnType, "must be a block of column = type")),
    /**
     * Hive-style date folder after the prefix: none, write_time (dt=<UTC day of the write>) or
     * event_time (dt=<UTC day of the data field `time_field`>).
     */
    partition: v.optional(
      v.picklist(
        ["none", "write_time", "event_time"],
        'must be "none", "write_time" or "event_time"',
      ),
      "none",
    ),
    /** The data field holding the event time (RFC 3339 or epoch milliseconds) for event_time. */
    time_field: v.optional(v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"))),
    /** Multipart part size in bytes (S3's minimum is 5 MiB). */
    part_size: v.optional(positiveInteger(5 * 1024 * 1024), 8 * 1024 * 1024),
  }),
  v.forward(
    v.check(
      (config) => config.partition !== "event_time" || config.time_field !== undefined,
      'needs time_field (the data field with the event time) when partition = "event_time"',
    ),
    ["time_field"],
  ),
  v.forward(
    v.check(
      (config) =>
        config.compression === undefined ||
        (config.format === "parquet"
          ? config.compression !== "gzip"
          : config.compression !== "snappy"),
      "parquet takes snappy, zstd or none; jsonl takes gzip, zstd or none",
    ),
    ["compression"],
  ),
);

export type S3OutputConfig = v.InferOutput<typeof s3OutputConfigSchema>;

export const s3InputConfigSchema = configObject({
  /** The bucket objects are read from. */
  bucket: v.pipe(v.string("must be a string"), v.nonEmpty("is required")),
  /** Only keys that start with this are read (in key order), e.g. "events/". */
  prefix: v.optional(v.string("must be a string"), ""),
  /**
   * auto (by each key's ending: .parquet, .jsonl/.ndjson, .jsonl.gz, .jsonl.zst), parquet or jsonl
   * (gzip and zstd still told by the ending); keys that do not fit are skipped.
   */
  format: v.optional(
    v.picklist(["auto", "parquet", "jsonl"], 'must be "auto", "parquet" or "jsonl"'),
    "auto",
  ),
  /** After the last key, keep listing for new keys every poll_interval, instead of ending. */
  follow: v.optional(v.boolean("must be true or false"), false),
  /** How often a following input lists the prefix again ("30s", "5m"). */
  poll_interval: v.optional(
    v.pipe(v.string("must be a string"), v.regex(durationPattern, 'must be like "30s", "5m"')),
    "30s",
  ),
  ...connectionEntries,
});

export type S3InputConfig = v.InferOutput<typeof s3InputConfigSchema>;
