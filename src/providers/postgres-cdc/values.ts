// The one type table of postgres-cdc: PostgreSQL's text output of a column -> the JSON text of its
// value. Numbers keep every digit PostgreSQL wrote; nothing goes through a JavaScript number.

export type ValueKind =
  | "number"
  | "bool"
  | "json"
  | "bytea"
  | "timestamp"
  | "timestamptz"
  | "date"
  | "array"
  | "text";

export interface ColumnType {
  kind: ValueKind;
  /** For arrays: the elements' type and the delimiter between them (',' but ';' for box). */
  element?: ColumnType;
  delimiter?: string;
}

/** One pg_type row, as much as the mapping needs. */
export interface TypeRow {
  oid: number;
  /** typcategory: 'A' array, 'N' numeric, ... */
  category: string;
  /** typelem of an array type. */
  element: number;
  /** typdelim. */
  delimiter: string;
  /** typbasetype of a domain (0 otherwise). */
  base: number;
}

/** Scalar kinds by type OID (PostgreSQL's fixed OIDs). money (790) is text: it carries a currency sign. */
const scalarKinds = new Map<number, ValueKind>([
  [20, "number"], // int8
  [21, "number"], // int2
  [23, "number"], // int4
  [26, "number"], // oid
  [700, "number"], // float4
  [701, "number"], // float8
  [1700, "number"], // numeric
  [16, "bool"],
  [114, "json"],
  [3802, "json"], // jsonb
  [17, "bytea"],
  [1114, "timestamp"],
  [1184, "timestamptz"],
  [1082, "date"],
]);

/** Array type OID -> element OID for the built-in arrays (the catalog adds the rest). */
const builtinArrays: [number, number][] = [
  [1000, 16],
  [1001, 17],
  [1005, 21],
  [1007, 23],
  [1016, 20],
  [1028, 26],
  [1021, 700],
  [1022, 701],
  [1231, 1700],
  [199, 114],
  [3807, 3802],
  [1115, 1114],
  [1185, 1184],
  [1182, 1082],
  [1009, 25],
  [1015, 1043],
  [2951, 2950],
];

const textType: ColumnType = { kind: "text" };

/** Resolves type OIDs to how their values map; knows the built-ins, learns the rest from pg_type. */
export class TypeCatalog {
  readonly #rows = new Map<number, TypeRow>();
  readonly #resolved = new Map<number, ColumnType>();

  constructor(rows: TypeRow[] = []) {
    for (const [array, element] of builtinArrays) {
      this.#rows.set(array, { oid: array, category: "A", element, delimiter: ",", base: 0 });
    }
    for (const row of rows) this.#rows.set(row.oid, row);
  }

  resolve(oid: number, depth = 0): ColumnType {
    const known = this.#resolved.get(oid);
    if (known) return known;
    let type: ColumnType = textType;
    const kind = scalarKinds.get(oid);
    const row = this.#rows.get(oid);
    if (kind) type = { kind };
    else if (row && depth < 8) {
      if (row.base !== 0) type = this.resolve(row.base, depth + 1);
      else if (row.category === "A" && row.element !== 0) {
        const elementRow = this.#rows.get(row.element);
        type = {
          kind: "array",
          element: this.resolve(row.element, depth + 1),
          delimiter: elementRow?.delimiter ?? ",",
        };
      }
    }
    this.#resolved.set(oid, type);
    return type;
  }
}

const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** NaN and ±Infinity (numeric, float) are not JSON numbers: they become strings "NaN", "Infinity", "-Infinity". */
function numberJson(text: string): string {
  return jsonNumber.test(text) ? text : JSON.stringify(text);
}

/** "0044-03-15 ... BC" -> astronomical year "-0043-03-15 ..." (ISO 8601 has a year 0). */
function withoutEra(text: string): string {
  if (!text.endsWith(" BC")) return text;
  const dash = text.indexOf("-");
  const year = 1 - Number(text.slice(0, dash));
  const sign = year < 0 ? "-" : "";
  return `${sign}${String(Math.abs(year)).padStart(4, "0")}${text.slice(dash, -3)}`;
}

/** "2026-12-07 15:03:34.5+00" -> "2026-12-07T15:03:34.5Z"; "+05:30" and "+05" -> "+05:30", "+05:00". */
export function isoTimestamp(text: string, withZone: boolean): string {
  if (text === "infinity" || text === "-infinity") return text;
  const plain = withoutEra(text);
  const space = plain.indexOf(" ");
  let iso = space === -1 ? plain : `${plain.slice(0, space)}T${plain.slice(space + 1)}`;
  if (withZone) {
    const zone = /([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(iso);
    if (zone) {
      const [whole, sign, hours, minutes = "00", seconds] = zone;
      const offset =
        sign === "+" && hours === "00" && minutes === "00" && !seconds
          ? "Z"
          : `${sign}${hours}:${minutes}${seconds ? `:${seconds}` : ""}`;
      iso = iso.slice(0, iso.length - whole.length) + offset;
    }
  }
  return iso;
}

/** bytea's hex output ("\x0a0b") -> base64; the escape format is never asked for (bytea_output=hex). */
function byteaBase64(text: string): string {
  const hex = text.startsWith("\\x") ? text.slice(2) : text;
  return Buffer.from(hex, "hex").toString("base64");
}

/** The JSON text of one non-null column value. */
export function valueJson(text: string, type: ColumnType): string {
  switch (type.kind) {
    case "number":
      return numberJson(text);
    case "bool":
      return text === "t" ? "true" : "false";
    case "json":
      // Line breaks in json can only be whitespace between tokens: a JSON line must not hold one.
      return text.replace(/[\r\n]+/g, " ");
    case "bytea":
      return `"${byteaBase64(text)}"`;
    case "timestamp":
      return JSON.stringify(isoTimestamp(text, false));
    case "timestamptz":
      return JSON.stringify(isoTimestamp(text, true));
    case "date":
      return JSON.stringify(withoutEra(text));
    case "array":
      return arrayJson(text, type.element ?? textType, type.delimiter ?? ",");
    case "text":
      return JSON.stringify(text);
  }
}

/** An array literal ("{1,2}", "{{a,\"b c\"},{NULL,d}}", "[0:1]={1,2}") -> a JSON array. */
export function arrayJson(text: string, element: ColumnType, delimiter: string): string {
  let at = 0;
  if (text.startsWith("[")) at = text.indexOf("=") + 1;
  const parts: string[] = [];
  const parse = (): void => {
    if (text[at] !== "{") throw new Error(`malformed array literal: ${text}`);
    at++;
    parts.push("[");
    let first = true;
    while (at < text.length && text[at] !== "}") {
      if (!first) {
        if (text[at] !== delimiter) throw new Error(`malformed array literal: ${text}`);
        at++;
        parts.push(",");
      }
      first = false;
      const char = text[at];
      if (char === "{") parse();
      else if (char === '"') {
        let value = "";
        at++;
        while (at < text.length && text[at] !== '"') {
          if (text[at] === "\\") at++;
          value += text[at];
          at++;
        }
        at++;
        parts.push(valueJson(value, element));
      } else {
        let end = at;
        while (end < text.length && text[end] !== delimiter && text[end] !== "}") end++;
        const value = text.slice(at, end).trim();
        at = end;
        parts.push(value.toUpperCase() === "NULL" ? "null" : valueJson(value, element));
      }
    }
    at++;
    parts.push("]");
  };
  parse();
  return parts.join("");
}
