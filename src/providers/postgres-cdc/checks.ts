// What postgres-cdc checks before it reads anything, each failure one line with its fix: wal_level,
// the role's REPLICATION and SELECT, the tables' existence and replica identity.
import type pg from "pg";
import { quoteIdentifier, walLevelMessage } from "./connection.ts";
import type { PostgresCdcConfig } from "./schema.ts";
import { TypeCatalog as Catalog, type TypeCatalog, type TypeRow } from "./values.ts";

/** A configured table, found. */
export interface CapturedTable {
  oid: number;
  schema: string;
  name: string;
  /** "public"."orders", for SQL. */
  sql: string;
  /** Primary key columns, else the replica identity index's (empty with FULL and no key). */
  keyColumns: string[];
}

interface TableRow {
  wanted: string;
  oid: string | null;
  schema: string | null;
  name: string | null;
  identity: string | null;
  can_select: string | null;
  primary_key: string | null;
  identity_index: string | null;
}

/** Key columns as a text[] literal parsed by hand: every value comes back as PostgreSQL's text. */
function columnList(text: string | null): string[] {
  if (!text || text === "{}") return [];
  return JSON.parse(
    `[${text
      .slice(1, -1)
      .split(",")
      .map((name) => JSON.stringify(name.replace(/^"|"$/g, "")))
      .join(",")}]`,
  ) as string[];
}

const tablesQuery = `
SELECT wanted, c.oid, n.nspname AS schema, c.relname AS name, c.relreplident AS identity,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       (SELECT array_agg(a.attname ORDER BY array_position(i.indkey, a.attnum))
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
       (SELECT array_agg(a.attname ORDER BY array_position(i.indkey, a.attnum))
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_index
  FROM unnest($1::text[]) WITH ORDINALITY AS t(wanted, position)
  LEFT JOIN pg_class c ON c.oid = to_regclass(wanted)
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY position`;

/** wal_level, then the role: both fail before any table is looked at. */
export async function checkServer(client: pg.Client): Promise<string> {
  const level = (await client.query("SHOW wal_level")).rows[0]?.wal_level as string;
  if (level !== "logical") throw new Error(walLevelMessage(level));
  const role = (
    await client.query(
      "SELECT current_user AS name, rolsuper AS super, rolreplication AS replication, current_database() AS database FROM pg_roles WHERE rolname = current_user",
    )
  ).rows[0] as { name: string; super: string; replication: string; database: string };
  if (role.super !== "t" && role.replication !== "t") {
    throw new Error(
      `postgres-cdc: role "${role.name}" lacks the REPLICATION attribute: ALTER ROLE ${quoteIdentifier(role.name)} WITH REPLICATION (as a superuser)`,
    );
  }
  return role.database;
}

/** Finds every configured table; the first problem fails with its fix. */
export async function checkTables(
  client: pg.Client,
  config: PostgresCdcConfig,
): Promise<CapturedTable[]> {
  const database = await checkServer(client);
  const user = (await client.query("SELECT current_user AS name")).rows[0]?.name as string;
  let rows: TableRow[];
  try {
    rows = (await client.query(tablesQuery, [config.tables])).rows as TableRow[];
  } catch (error) {
    // to_regclass rejects a name that is not a name at all ("a.b.c.d").
    throw new Error(`postgres-cdc: tables: ${error instanceof Error ? error.message : error}`);
  }
  return rows.map((row) => {
    if (row.oid === null || row.schema === null || row.name === null) {
      throw new Error(
        `postgres-cdc: table "${row.wanted}" does not exist in database "${database}"; check tables (a name without a schema is looked up in the search_path)`,
      );
    }
    const sql = `${quoteIdentifier(row.schema)}.${quoteIdentifier(row.name)}`;
    if (row.can_select !== "t") {
      throw new Error(
        `postgres-cdc: role "${user}" lacks SELECT on ${row.schema}.${row.name}: GRANT SELECT ON ${sql} TO ${quoteIdentifier(user)}`,
      );
    }
    const primaryKey = columnList(row.primary_key);
    const identityIndex = columnList(row.identity_index);
    const hasIdentity =
      row.identity === "f" ||
      (row.identity === "d" && primaryKey.length > 0) ||
      (row.identity === "i" && identityIndex.length > 0);
    if (!hasIdentity) {
      throw new Error(
        `postgres-cdc: table ${row.schema}.${row.name} has no replica identity, so UPDATE and DELETE on it fail at the source once it is published; give it a primary key or run ALTER TABLE ${sql} REPLICA IDENTITY FULL`,
      );
    }
    return {
      oid: Number(row.oid),
      schema: row.schema,
      name: row.name,
      sql,
      keyColumns: primaryKey.length > 0 ? primaryKey : identityIndex,
    };
  });
}

/** Every type the server knows, for values.ts (domains, arrays and extension types included). */
export async function loadTypes(client: pg.Client): Promise<TypeCatalog> {
  const result = await client.query(
    "SELECT oid, typcategory AS category, typelem AS element, typdelim AS delimiter, typbasetype AS base FROM pg_type",
  );
  const rows: TypeRow[] = result.rows.map((row: Record<string, string>) => ({
    oid: Number(row.oid),
    category: row.category ?? "",
    element: Number(row.element),
    delimiter: row.delimiter ?? ",",
    base: Number(row.base),
  }));
  return new Catalog(rows);
}
