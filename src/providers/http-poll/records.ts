// Reading a response body: dotted paths (`data.items`), the records of a page, and the order of
// cursor_field values.

/** The value at a dotted path (`data.items`, `rows.0.id`); undefined when any step is missing. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) {
    if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else if (typeof current === "object" && current !== null && Object.hasOwn(current, part)) {
      current = (current as Record<string, unknown>)[part];
    } else return undefined;
  }
  return current;
}

/**
 * A page's records: the array at `path`, or (no path) the body itself when it is an array, else
 * the body as one record. A missing or null array is an empty page; anything else is an error.
 */
export function recordsOf(body: unknown, path: string): unknown[] {
  if (path === "") return Array.isArray(body) ? body : body === null ? [] : [body];
  const found = valueAt(body, path);
  if (found === undefined || found === null) return [];
  if (!Array.isArray(found)) {
    const kind = typeof found === "object" ? "an object" : `a ${typeof found}`;
    throw new Error(
      `"${path}" in the response is ${kind}, not an array of records (check records)`,
    );
  }
  return found;
}

export type CursorValue = string | number;

/** A record's cursor_field value when it is a string or a finite number. */
export function cursorValueOf(record: unknown, path: string): CursorValue | undefined {
  const found = valueAt(record, path);
  if (typeof found === "string" || (typeof found === "number" && Number.isFinite(found))) {
    return found;
  }
  return undefined;
}

/** Numbers compare as numbers, anything else as strings (ISO 8601 times in one format sort right). */
export function compareCursors(a: CursorValue, b: CursorValue): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A short fingerprint of a record, to tell the records at the cursor boundary apart. */
export function recordFingerprint(record: unknown): string {
  return Bun.hash(JSON.stringify(record) ?? "null").toString(36);
}
