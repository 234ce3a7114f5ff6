// A JSON value's own text as part of an event line: checked, never parsed into doubles and written
// again, so an int64 or a long decimal keeps every digit its producer wrote.

const lineBreaks = /[\n\r]/g;

/**
 * A message's value as the JSON text of an event's `data`: with "json" its own text (oneLineJson;
 * undefined when it is not JSON), with "string" its UTF-8 text as a JSON string, with "base64" its
 * bytes in base64.
 */
export function valueText(
  value: Uint8Array,
  format: "json" | "string" | "base64",
): string | undefined {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (format === "string") return JSON.stringify(bytes.toString("utf8"));
  if (format === "base64") return `"${bytes.toString("base64")}"`;
  return oneLineJson(bytes.toString("utf8"));
}

/**
 * `text` as one line of JSON, or undefined when it is not JSON. Its raw line feeds and carriage
 * returns can only be whitespace (a JSON string escapes its own), so they become spaces: readers
 * that also end lines at a carriage return see one line too.
 */
export function oneLineJson(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  return text.includes("\n") || text.includes("\r") ? text.replace(lineBreaks, " ") : text;
}

/** A number JSON.parse would not give back as written: JSON.stringify writes its own text again. */
class WrittenNumber {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(this.text);
  }

  toString(): string {
    return this.text;
  }
}

/** Digit runs a double cannot hold, or exponents past its range: what a plain parse may round. */
const roundedNumbers = /\d{16}|[eE][+-]?\d{3}/;

/**
 * JSON.parse that keeps, when `text` may hold them, numbers a double would round: each such
 * number becomes an object that JSON.stringify writes as its own text. Undefined when `text`
 * holds none (the plain parse is then exact).
 */
export function parseKeepingNumbers(text: string): unknown | undefined {
  if (!roundedNumbers.test(text)) return undefined;
  const keep = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined && String(value) !== context.source
      ? new WrittenNumber(context.source)
      : value;
  return JSON.parse(text, keep as (key: string, value: unknown) => unknown);
}
