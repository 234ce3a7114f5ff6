// Table names and what the catalog says about a table: its columns, their types, its primary key.
import type { Client } from "pg";

export interface TableName {
  schema: string;
  name: string;
}

/** "orders" -> public.orders, "sales.orders" -> sales.orders; quoted parts keep their case and dots. */
export function parseTableName(text: string): TableName {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        current += '"';
        index++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ".") {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  if (parts.length === 1) return { schema: "public", name: parts[0] as string };
  if (parts.length === 2) return { schema: parts[0] as string, name: parts[1] as string };
  throw new Error(`"${text}" is not a table name ("table" or "schema.table")`);
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedName(table: TableName): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

/** How the table is named in messages: public.orders. */
export function displayName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

export interface TableInfo {
  table: TableName;
  /** Column name -> its type as format_type() writes it ("bigint", "bytea", "integer[]"). */
  columns: Map<string, string>;
  /** The primary key's columns in key order; empty without one. */
  primaryKey: string[];
  /**
   * Generated columns (GENERATED ALWAYS AS ... STORED): the table computes them, so a value an
   * event carries for one (postgres-cdc's snapshot does) is skipped, never written.
   */
  generated: Set<string>;
}

/** The table's columns and primary key, or undefined when it does not exist. */
export async function describeTable(
  client: Client,
  table: TableName,
): Promise<TableInfo | undefined> {
  const found = await client.query<{ oid: number }>(
    `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table.schema, table.name],
  );
  const oid = found.rows[0]?.oid;
  if (oid === undefined) return undefined;
  const columns = await client.query<{ name: string; type: string; generated: boolean }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type,
            attgenerated <> '' AS generated
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
      ORDER BY attnum`,
    [oid],
  );
  const key = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.position`,
    [oid],
  );
  return {
    table,
    columns: new Map(
      columns.rows.filter((row) => !row.generated).map((row) => [row.name, row.type]),
    ),
    primaryKey: key.rows.map((row) => row.name),
    generated: new Set(columns.rows.filter((row) => row.generated).map((row) => row.name)),
  };
}
