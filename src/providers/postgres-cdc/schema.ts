// postgres-cdc input settings: loadable without the provider or the client library.
import * as v from "valibot";
import { configObject, nonEmptyString } from "../../sdk/config.ts";

/** PostgreSQL identifiers dstream names itself: lower-case letters, digits and '_', at most 63. */
export const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

const identifier = v.pipe(
  nonEmptyString,
  v.regex(
    identifierPattern,
    "must be 1-63 lower-case letters, digits or '_', not starting with a digit",
  ),
);

const wholeNumber = (minimum: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be a whole number"),
    v.minValue(minimum, `must be ${minimum} or more`),
  );

export const postgresCdcConfigSchema = configObject({
  /** "postgres://user:password@host:5432/db"; omitted: the libpq PG* variables (PGHOST, PGUSER, ...). */
  connection_string: v.optional(
    v.pipe(
      nonEmptyString,
      v.regex(
        /^postgres(ql)?:\/\//,
        'must be a URL starting with "postgres://" or "postgresql://"',
      ),
    ),
  ),
  /** Tables to capture, "schema.table" or "table" (search_path). Required: nothing to read otherwise. */
  tables: v.pipe(
    v.array(nonEmptyString, "must be a list of table names"),
    v.minLength(1, "must name at least one table"),
  ),
  /** The publication; default "dstream_<task>". */
  publication: v.optional(identifier),
  /** The logical replication slot; default "dstream_<task>". */
  slot: v.optional(identifier),
  /** "initial": copy the tables' rows first, then stream; "never": stream changes only. */
  snapshot: v.optional(v.picklist(["initial", "never"], 'must be "initial" or "never"'), "initial"),
  /** How often (ms) an idle slot's confirmed position moves up to the server's; 0 = never. */
  heartbeat: v.optional(wholeNumber(0), 10_000),
  /** Rows fetched per round trip while copying a table. */
  snapshot_batch_rows: v.optional(wholeNumber(1), 5000),
  /** A run logs one warning when the slot keeps more WAL than this (bytes); status warns too. 0: never. */
  lag_warning_bytes: v.optional(wholeNumber(0), 1024 ** 3),
});

export type PostgresCdcConfig = v.InferOutput<typeof postgresCdcConfigSchema>;

/** "dstream_<task>" as a valid identifier: lower-cased, other characters '_', at most 63. */
export function defaultName(task: string): string {
  const cleaned = task.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return `dstream_${cleaned || "task"}`.slice(0, 63);
}

export interface ResourceNames {
  publication: string;
  slot: string;
}

export function resourceNames(config: PostgresCdcConfig, task: string): ResourceNames {
  return {
    publication: config.publication ?? defaultName(task),
    slot: config.slot ?? defaultName(task),
  };
}
