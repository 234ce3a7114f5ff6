// The one type-mapping table of the s3 output: JSON values to Parquet columns (inferred or declared),
// how each value is converted, and what is lossy. docs/s3.md "Types" shows the same table.
import type { SchemaElement } from "hyparquet";
import { decimalPattern } from "./schema.ts";

/** A column's type: one of the declared names, with precision and scale for decimals. */
export type ColumnType =
  | { kind: "string" }
  | { kind: "int64" }
  | { kind: "double" }
  | { kind: "boolean" }
  | { kind: "timestamp" }
  | { kind: "json" }
  | { kind: "decimal"; precision: number; scale: number };

/**
 * | JSON in                         | inferred column | Parquet                                  | lossy?                         |
 * | true / false                    | boolean         | BOOLEAN                                  | no                             |
 * | integer within int64            | int64           | INT64                                    | no (read from the source text) |
 * | other number                    | double          | DOUBLE                                   | as JSON's own doubles          |
 * | string                          | string          | BYTE_ARRAY UTF8 (STRING)                 | no                             |
 * | object or array                 | json            | BYTE_ARRAY JSON (its JSON text)          | no                             |
 * | null / missing                  | (any) null      | the column is OPTIONAL                   | no                             |
 * | RFC 3339 string or epoch ms     | declared only   | INT64 TIMESTAMP(MICROS, UTC)             | below a microsecond            |
 * | number or numeric string        | declared only   | DECIMAL(p,s): INT64 (p<=18) or FIXED(16) | no (more decimals: an error)   |
 */
export const typeTable = [
  { json: "true / false", inferred: "boolean", parquet: "BOOLEAN", lossy: "no" },
  { json: "integer within int64", inferred: "int64", parquet: "INT64", lossy: "no" },
  { json: "other number", inferred: "double", parquet: "DOUBLE", lossy: "as JSON doubles" },
  { json: "string", inferred: "string", parquet: "BYTE_ARRAY (STRING)", lossy: "no" },
  { json: "object or array", inferred: "json", parquet: "BYTE_ARRAY (JSON)", lossy: "no" },
] as const;

export function parseColumnType(text: string): ColumnType {
  const decimal = decimalPattern.exec(text);
  if (decimal) return { kind: "decimal", precision: Number(decimal[1]), scale: Number(decimal[2]) };
  if (text === "decimal") return { kind: "decimal", precision: 38, scale: 9 };
  return { kind: text } as ColumnType;
}

export function typeName(type: ColumnType): string {
  return type.kind === "decimal" ? `decimal(${type.precision},${type.scale})` : type.kind;
}

/** A number kept as its JSON source text, so ints past 2^53 and decimals are exact. */
export class NumberText {
  constructor(readonly text: string) {}
  get isInteger(): boolean {
    return /^-?\d+$/.test(this.text);
  }
}

const utf8 = new TextEncoder();
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Parses a line with exact numbers: every number that is not a safe integer stays NumberText. */
export function parseExact(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key, value, context?: { source?: string }) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source)
      return new NumberText(context.source);
    return value;
  });
}

/** A line may hold numbers JSON.parse would round: long digit runs or any fraction. */
export function needsExactParse(text: string, decimals: boolean): boolean {
  return /\d{16}/.test(text) || (decimals && /\d\.\d|\de/i.test(text));
}

/** The column type a value suggests; undefined for null (any column takes it). */
export function inferType(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "boolean") return { kind: "boolean" };
  if (typeof value === "number")
    return Number.isInteger(value) ? { kind: "int64" } : { kind: "double" };
  if (value instanceof NumberText) {
    if (value.isInteger) {
      const big = BigInt(value.text);
      if (big >= INT64_MIN && big <= INT64_MAX) return { kind: "int64" };
    }
    return { kind: "double" };
  }
  if (typeof value === "string") return { kind: "string" };
  return { kind: "json" };
}

/** The type both fit in, or undefined when none does (int64 and double widen to double). */
export function widen(a: ColumnType, b: ColumnType): ColumnType | undefined {
  if (typeName(a) === typeName(b)) return a;
  const kinds = new Set([a.kind, b.kind]);
  if (kinds.has("int64") && kinds.has("double")) return { kind: "double" };
  return undefined;
}

/** True when a column of `column` type holds a value of inferred type `value` as it is. */
export function fits(column: ColumnType, value: ColumnType): boolean {
  if (typeName(column) === typeName(value)) return true;
  if (column.kind === "double" && value.kind === "int64") return true;
  // Declared-only types take what they convert from.
  if (column.kind === "timestamp") return value.kind === "string" || value.kind === "int64";
  if (column.kind === "decimal")
    return value.kind === "int64" || value.kind === "double" || value.kind === "string";
  if (column.kind === "json") return true;
  if (column.kind === "string") return false;
  return false;
}

export class ValueError extends Error {
  override readonly name = "ValueError";
}

/** The Parquet schema element of one OPTIONAL column. */
export function schemaElement(name: string, type: ColumnType): SchemaElement {
  const base = { name, repetition_type: "OPTIONAL" as const };
  switch (type.kind) {
    case "string":
      return {
        ...base,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
    case "int64":
      return { ...base, type: "INT64" };
    case "double":
      return { ...base, type: "DOUBLE" };
    case "boolean":
      return { ...base, type: "BOOLEAN" };
    case "json":
      // Logical type only: values arrive as UTF-8 bytes of their exact JSON text (see convert).
      return { ...base, type: "BYTE_ARRAY", logical_type: { type: "JSON" } };
    case "timestamp":
      return {
        ...base,
        type: "INT64",
        converted_type: "TIMESTAMP_MICROS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "decimal":
      return {
        ...base,
        ...(type.precision <= 18
          ? { type: "INT64" as const }
          : { type: "FIXED_LEN_BYTE_ARRAY" as const, type_length: 16 }),
        converted_type: "DECIMAL",
        precision: type.precision,
        scale: type.scale,
        logical_type: { type: "DECIMAL", precision: type.precision, scale: type.scale },
      };
  }
}

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Microseconds since the epoch of an RFC 3339 string or epoch milliseconds. */
export function timestampMicros(value: unknown): bigint {
  if (typeof value === "number" && Number.isFinite(value)) return BigInt(Math.round(value * 1000));
  if (value instanceof NumberText) return BigInt(Math.round(Number(value.text) * 1000));
  if (typeof value === "string") {
    const match = rfc3339.exec(value);
    if (match) {
      const fraction = (match[7] ?? "").padEnd(6, "0").slice(0, 6);
      const whole = Date.parse(
        `${value.slice(0, 19).replace(/[t ]/, "T")}${match[8] === "z" ? "Z" : match[8]}`,
      );
      if (!Number.isNaN(whole)) return BigInt(whole) * 1000n + BigInt(fraction);
    }
  }
  throw new ValueError(`${JSON.stringify(value)} is not an RFC 3339 time or epoch milliseconds`);
}

/** The unscaled integer of a decimal value with `scale` decimals, exactly. */
export function decimalUnscaled(
  value: unknown,
  type: { precision: number; scale: number },
): bigint {
  const text =
    value instanceof NumberText
      ? value.text
      : typeof value === "number" || typeof value === "string"
        ? String(value)
        : undefined;
  const match = text === undefined ? null : /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new ValueError(`${JSON.stringify(value)} is not a decimal number`);
  let digits = `${match[2]}${match[3] ?? ""}`;
  let exponent = Number(match[4] ?? 0) - (match[3] ?? "").length + type.scale;
  if (exponent < 0) {
    const dropped = digits.slice(digits.length + exponent);
    if (/[1-9]/.test(dropped)) throw new ValueError(`${text} has more than ${type.scale} decimals`);
    digits = digits.slice(0, digits.length + exponent) || "0";
    exponent = 0;
  }
  const unscaled = BigInt(digits + "0".repeat(exponent));
  if (unscaled.toString().length > type.precision)
    throw new ValueError(`${text} has more than ${type.precision} digits`);
  return match[1] === "-" ? -unscaled : unscaled;
}

/** A JSON value converted for a column of `type`; null stays null. */
export function convert(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "string":
      if (typeof value !== "string") throw new ValueError(`${short(value)} is not a string`);
      return value;
    case "int64":
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
      if (value instanceof NumberText && value.isInteger) return BigInt(value.text);
      throw new ValueError(`${short(value)} is not a whole number`);
    case "double":
      if (typeof value === "number") return value;
      if (value instanceof NumberText) return Number(value.text);
      throw new ValueError(`${short(value)} is not a number`);
    case "boolean":
      if (typeof value !== "boolean") throw new ValueError(`${short(value)} is not true or false`);
      return value;
    case "json":
      return utf8.encode(toJsonText(value));
    case "timestamp":
      return timestampMicros(value);
    case "decimal":
      return decimalUnscaled(value, type);
  }
}

/** JSON text with NumberText written back as its digits (exact). */
export function toJsonText(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_key, inner) => {
    if (inner instanceof NumberText) {
      marks.push(inner.text);
      return `\u0000${marks.length - 1}\u0000`;
    }
    return inner;
  });
  if (marks.length === 0) return text;
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_all, index) => marks[Number(index)] ?? "null");
}

function short(value: unknown): string {
  const text = value instanceof NumberText ? value.text : toJsonText(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
