// The Parquet columns of one s3 output run: inferred from rows (kept from object to object, widened
// when a row needs it) or declared; names that clash, and scalars taken as text, decided here.
import {
  type ColumnType,
  fits,
  inferType,
  NumberText,
  toJsonText,
  typeName,
  widen,
} from "./types.ts";

/** A scalar a string column takes as its JSON text ("7", "true"), as Spark's inference does. */
function isScalar(value: unknown): boolean {
  return typeof value === "number" || typeof value === "boolean" || value instanceof NumberText;
}

function clash(field: string, where: string, known: ColumnType, type: ColumnType): Error {
  return new Error(
    `s3: field "${field}" at ${where} is ${typeName(type)}, but earlier rows made it ${typeName(known)} (declare it in a schema block as json or string, or fix the data)`,
  );
}

export class Columns {
  readonly types = new Map<string, ColumnType>();
  /** Columns seen only as null so far: a placeholder string, replaced by the first real type. */
  readonly #nullOnly = new Set<string>();
  /** Lower-cased name to name: engines such as Athena and Spark fold column names. */
  readonly #folded = new Map<string, string>();
  /** Inferred string columns that took a number or boolean: those values are written as text. */
  readonly #textFromScalars = new Set<string>();

  constructor(readonly declared: boolean) {}

  static declare(types: Map<string, ColumnType>): Columns {
    const columns = new Columns(true);
    for (const [name, type] of types) {
      columns.#checkCase(name, "the schema block");
      columns.types.set(name, type);
    }
    return columns;
  }

  get size(): number {
    return this.types.size;
  }

  #checkCase(field: string, where: string): void {
    const folded = field.toLowerCase();
    const other = this.#folded.get(folded);
    if (other !== undefined && other !== field)
      throw new Error(
        `s3: fields "${other}" and "${field}" (${where}) differ only in case; Athena, Spark and Hive fold column names, so they would be one column (rename one in the data, or use format = "jsonl")`,
      );
    this.#folded.set(folded, field);
  }

  #add(field: string, type: ColumnType, where: string): void {
    this.#checkCase(field, where === "the schema block" ? where : `at ${where}`);
    this.types.set(field, type);
  }

  /** Adds a waiting row's fields to the columns; widens int64 to double; a type clash is an error. */
  merge(values: Record<string, unknown>, where: string): void {
    for (const [field, value] of Object.entries(values)) {
      const type = inferType(value);
      const known = this.types.get(field);
      if (type === undefined) {
        if (!known) {
          this.#add(field, { kind: "string" }, where);
          this.#nullOnly.add(field);
        }
        continue;
      }
      if (!known || this.#nullOnly.has(field)) {
        if (!known) this.#add(field, type, where);
        else this.types.set(field, type);
        this.#nullOnly.delete(field);
        continue;
      }
      if (known.kind === "string" && isScalar(value)) {
        this.#textFromScalars.add(field);
        continue;
      }
      const wider = widen(known, type);
      if (!wider) throw clash(field, where, known, type);
      this.types.set(field, wider);
    }
  }

  /** True when the open object's columns take the row as they are; false when they must widen. */
  fit(values: Record<string, unknown>, where: string): boolean {
    for (const [field, value] of Object.entries(values)) {
      const known = this.types.get(field);
      const type = inferType(value);
      if (!known) return false;
      if (type === undefined) continue;
      if (this.#nullOnly.has(field)) return false;
      if (fits(known, type)) continue;
      if (known.kind === "string" && isScalar(value)) {
        this.#textFromScalars.add(field);
        continue;
      }
      if (widen(known, type)) return false;
      throw clash(field, where, known, type);
    }
    return true;
  }

  /** The row's values as the columns take them: numbers and booleans in string columns as text. */
  coerce(values: Record<string, unknown>): Record<string, unknown> {
    for (const field of this.#textFromScalars) {
      const value = values[field];
      if (isScalar(value) && this.types.get(field)?.kind === "string")
        values[field] = toJsonText(value);
    }
    return values;
  }
}
