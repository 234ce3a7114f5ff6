// postgres output settings: loadable without the provider or the client library.
import * as v from "valibot";
import { configObject, nonEmptyString, wholeNumberFrom } from "../../sdk/config.ts";

/** A column name as written in the table (quoted in SQL, so any name works). */
const columnName = nonEmptyString;

/** A type as PostgreSQL spells it: "bigint", "numeric(20,2)", "text[]", "timestamp with time zone". */
export const columnTypePattern = /^[A-Za-z_][A-Za-z0-9_ ,.()[\]"]*$/;

export const postgresOutputConfigSchema = v.pipe(
  configObject({
    /** A postgres:// URL; omitted, the libpq PG* variables (PGHOST, PGUSER, PGPASSWORD...) apply. */
    connection_string: v.optional(
      v.pipe(
        nonEmptyString,
        v.regex(/^postgres(ql)?:\/\//, 'must be a "postgres://user:password@host:port/db" URL'),
      ),
    ),
    /** "insert" (append), "upsert" (by key) or "replicate" (apply postgres-cdc events). */
    mode: v.optional(
      v.picklist(["insert", "upsert", "replicate"], 'must be "insert", "upsert" or "replicate"'),
      "insert",
    ),
    /** The table rows go to ("orders" or "sales.orders"); insert and upsert only. */
    table: v.optional(nonEmptyString),
    /** The columns an upsert matches rows on; default: the table's primary key. */
    key: v.optional(
      v.pipe(
        v.array(columnName, "must be a list of column names"),
        v.minLength(1, "must name at least one column"),
      ),
    ),
    /** Columns and types of the table that `dstream init` creates, e.g. { id = "bigint" }. */
    columns: v.optional(
      v.pipe(
        v.record(
          columnName,
          v.pipe(
            nonEmptyString,
            v.regex(columnTypePattern, 'must be a PostgreSQL type such as "bigint" or "text[]"'),
          ),
          "must be a map of column name to type",
        ),
        v.check((columns) => Object.keys(columns).length > 0, "must name at least one column"),
      ),
    ),
    /** Rows per transaction at most. */
    batch_rows: v.optional(wholeNumberFrom(1), 20_000),
    /** Bytes of events per transaction at most (a longer event is a transaction alone). */
    batch_bytes: v.optional(wholeNumberFrom(1024), 4 * 1024 * 1024),
    /** How long a batch waits for more events once none are ready (ms); 0 writes at once. */
    batch_wait_ms: v.optional(wholeNumberFrom(0), 20),
    /** How long to wait for the server before failing with "cannot connect" (ms). */
    connect_timeout_ms: v.optional(wholeNumberFrom(100), 10_000),
    /** "replica": the session applies changes as logical replication does (no FK checks, no triggers). */
    session_replication_role: v.optional(
      v.picklist(["origin", "replica"], 'must be "origin" or "replica"'),
    ),
  }),
  v.check(
    (config) => config.mode === "replicate" || config.table !== undefined,
    'table: is required in "insert" and "upsert" modes',
  ),
  v.check(
    (config) => config.mode !== "replicate" || config.table === undefined,
    'table: not used in "replicate" mode (events name their tables in metadata.table)',
  ),
  v.check(
    (config) => config.mode === "upsert" || config.key === undefined,
    'key: only used in "upsert" mode',
  ),
);

export type PostgresOutputConfig = v.InferOutput<typeof postgresOutputConfigSchema>;
