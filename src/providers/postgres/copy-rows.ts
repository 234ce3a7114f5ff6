// Insert mode's fast path: each event's `data` turned into a row of COPY's text format straight
// from the line's bytes. Numbers are copied as they were written (no JavaScript double), strings
// without escapes byte for byte; a line the scanner does not understand is left to JSON.parse.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** The scanner met something it does not handle (invalid JSON, data not an object). */
export class UnscannableLine extends Error {
  override readonly name = "UnscannableLine";
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === TAB || byte === NEWLINE || byte === RETURN;
}

// Every scan stops at `limit`, the end of the line: a line may be a stretch of a bigger chunk.

function skipSpace(line: Uint8Array, at: number, limit: number): number {
  let index = at;
  while (index < limit && isSpace(line[index])) index++;
  return index;
}

/** The end (exclusive) of the string starting at `at` (its opening quote). */
function stringEnd(line: Uint8Array, at: number, limit: number): number {
  let index = at + 1;
  for (;;) {
    if (index >= limit) throw new UnscannableLine("unterminated string");
    const byte = line[index];
    if (byte === BACKSLASH) index += 2;
    else if (byte === QUOTE) return index + 1;
    else index++;
  }
}

/** The end (exclusive) of the JSON value starting at `at`. */
function valueEnd(line: Uint8Array, at: number, limit: number): number {
  const first = line[at];
  if (first === QUOTE) return stringEnd(line, at, limit);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let index = at;
    for (;;) {
      if (index >= limit) throw new UnscannableLine("unterminated object or array");
      const byte = line[index];
      if (byte === QUOTE) {
        index = stringEnd(line, index, limit);
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return index + 1;
      }
      index++;
    }
  }
  let index = at;
  while (index < limit) {
    const byte = line[index];
    if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)) break;
    index++;
  }
  if (index === at) throw new UnscannableLine("missing value");
  return index;
}

const decoder = new TextDecoder();

/** Member names seen before, by a hash of their bytes: rows of one table repeat the same few. */
const knownKeys = new Map<number, KnownKey>();

function sameBytes(line: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let index = start; index < end; index++) {
    if (line[index] !== bytes[index - start]) return false;
  }
  return true;
}

/** A member name as its bytes (quotes included), and as text. */
interface KnownKey {
  bytes: Uint8Array;
  name: string;
}

/**
 * The name of the key string line[start, end) (quotes included): first the name the previous row
 * had at this place (`previous`), else by hash.
 */
function keyOf(line: Uint8Array, start: number, end: number, previous?: KnownKey): KnownKey {
  if (previous && sameBytes(line, start, end, previous.bytes)) return previous;
  let hash = 0x811c9dc5;
  for (let index = start; index < end; index++) {
    hash = Math.imul(hash ^ (line[index] as number), 0x01000193);
  }
  const known = knownKeys.get(hash);
  if (known && sameBytes(line, start, end, known.bytes)) return known;
  const text = decoder.decode(line.subarray(start, end));
  const key = { bytes: line.slice(start, end), name: JSON.parse(text) as string };
  if (knownKeys.size < 10_000) knownKeys.set(hash, key);
  return key;
}

/** Whether line[start, end) is the key "data" (quotes included). */
function isDataKey(line: Uint8Array, start: number, end: number): boolean {
  return (
    end - start === 6 &&
    line[start + 1] === 0x64 &&
    line[start + 2] === 0x61 &&
    line[start + 3] === 0x74 &&
    line[start + 4] === 0x61
  );
}

/**
 * Walks the object starting at `at`: each member's key end and value span. `data` receives the
 * members of the top level's "data" object (when `row` is given, this object is that one).
 * Returns the object's end. Loops, not callbacks: this runs for every event.
 */
function walkObject(
  line: Uint8Array,
  at: number,
  row: ScannedRow | undefined,
  top: boolean,
  limit: number,
): number {
  // Past `limit` is the line's \n or nothing: neither matches a byte looked for below.
  if (at >= limit || line[at] !== OPEN_BRACE) throw new UnscannableLine("not an object");
  let index = skipSpace(line, at + 1, limit);
  if (index < limit && line[index] === CLOSE_BRACE) return index + 1;
  for (;;) {
    if (index >= limit || line[index] !== QUOTE) throw new UnscannableLine("expected a key");
    const keyStart = index;
    const keyEnd = stringEnd(line, index, limit);
    index = skipSpace(line, keyEnd, limit);
    if (index >= limit || line[index] !== COLON) throw new UnscannableLine("expected :");
    const start = skipSpace(line, index + 1, limit);
    let end: number;
    if (top && row && isDataKey(line, keyStart, keyEnd)) {
      if (row.found) throw new UnscannableLine("data twice");
      row.found = true;
      end = walkObject(line, start, row, false, limit);
    } else {
      if (start >= limit) throw new UnscannableLine("missing value");
      end = valueEnd(line, start, limit);
      if (!top && row) {
        const field = row.names.length;
        const key = keyOf(line, keyStart, keyEnd, row.keys[field]);
        row.keys[field] = key;
        row.names.push(key.name);
        row.starts.push(start);
        row.ends.push(end);
      }
    }
    index = skipSpace(line, end, limit);
    if (index >= limit) throw new UnscannableLine("expected , or }");
    if (line[index] === COMMA) index = skipSpace(line, index + 1, limit);
    else if (line[index] === CLOSE_BRACE) return index + 1;
    else throw new UnscannableLine("expected , or }");
  }
}

/** The members of the event's `data` object: names, and where each value starts and ends. */
export interface ScannedRow {
  names: string[];
  starts: number[];
  ends: number[];
  found?: boolean;
  /** The names' keys, kept from row to row: the next row most likely has the same. */
  keys: KnownKey[];
}

/**
 * Fills `row` with the members of the `data` object of the line line[start, end) (a row is reused
 * from line to line); the spans it records are positions in `line`.
 */
export function scanData(
  line: Uint8Array,
  row: ScannedRow = { names: [], starts: [], ends: [], keys: [] },
  start = 0,
  end = line.length,
): ScannedRow {
  row.names.length = 0;
  row.starts.length = 0;
  row.ends.length = 0;
  row.found = false;
  const objectEnd = walkObject(line, skipSpace(line, start, end), row, true, end);
  if (!row.found || skipSpace(line, objectEnd, end) !== end) {
    throw new UnscannableLine("no data object");
  }
  return row;
}

/** A growing byte buffer for COPY data. */
export class ByteBuilder {
  #buffer = new Uint8Array(1 << 16);
  length = 0;

  #reserve(extra: number): void {
    if (this.length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buffer.subarray(0, this.length));
    this.#buffer = bigger;
  }

  push(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.length++] = byte;
  }

  bytes(source: Uint8Array, start = 0, end = source.length): void {
    this.#reserve(end - start);
    if (end - start > 64) this.#buffer.set(source.subarray(start, end), this.length);
    else {
      const buffer = this.#buffer;
      for (let index = start; index < end; index++)
        buffer[this.length + index - start] = source[index] as number;
    }
    this.length += end - start;
  }

  /** Bytes with COPY's text escapes: backslash, tab, newline and carriage return. */
  escaped(source: Uint8Array, start = 0, end = source.length): void {
    this.#reserve((end - start) * 2);
    const buffer = this.#buffer;
    for (let index = start; index < end; index++) {
      const byte = source[index] as number;
      if (byte === BACKSLASH || byte === TAB || byte === NEWLINE || byte === RETURN) {
        buffer[this.length++] = BACKSLASH;
        buffer[this.length++] =
          byte === TAB ? 0x74 : byte === NEWLINE ? 0x6e : byte === RETURN ? 0x72 : BACKSLASH;
      } else buffer[this.length++] = byte;
    }
  }

  text(text: string): void {
    this.bytes(encoder.encode(text));
  }

  /** A whole number >= 0 in decimal digits. */
  decimal(value: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.#reserve(digits);
    let rest = value;
    for (let index = this.length + digits - 1; index >= this.length; index--) {
      this.#buffer[index] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    this.length += digits;
  }

  /** What was built; the builder starts over. */
  take(): Uint8Array {
    const built = this.#buffer.slice(0, this.length);
    this.length = 0;
    return built;
  }

  /**
   * What was built from `start` on, as a view, no copy: it stays valid while the builder grows
   * (a bigger buffer leaves the old one as it was) until reset() lets later bytes overwrite it.
   */
  since(start: number): Uint8Array {
    return this.#buffer.subarray(start, this.length);
  }

  /** Starts over in the same memory: views handed out before are overwritten by what follows. */
  reset(): void {
    this.length = 0;
  }
}

const encoder = new TextEncoder();
const NULL_FIELD = encoder.encode("\\N");

/** How a column's JSON value becomes COPY text. */
export type ColumnKind = "plain" | "json" | "bytea" | "array";

export function columnKind(type: string | undefined): ColumnKind {
  if (type === "json" || type === "jsonb") return "json";
  if (type === "bytea") return "bytea";
  if (type?.endsWith("[]")) return "array";
  return "plain";
}

function isNull(line: Uint8Array, start: number, end: number): boolean {
  return (
    end - start === 4 &&
    line[start] === 0x6e &&
    line[start + 1] === 0x75 &&
    line[start + 2] === 0x6c &&
    line[start + 3] === 0x6c
  );
}

/** A JSON number's own text: what PostgreSQL reads, digit for digit. */
type Raw = { raw: string };

function parseExact(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === "number" ? ({ raw: context?.source ?? String(value) } satisfies Raw) : value,
  );
}

/** A JSON array as a PostgreSQL array literal ({1,"a b",NULL,{2,3}}). */
function arrayLiteral(value: unknown): string {
  if (value === null) return "NULL";
  if (Array.isArray(value)) return `{${value.map(arrayLiteral).join(",")}}`;
  if (typeof value === "object" && "raw" in (value as object)) return (value as Raw).raw;
  if (typeof value === "boolean") return String(value);
  // An object inside an array (json[]) would lose its numbers' digits here: the JSON way takes it.
  if (typeof value !== "string") throw new UnscannableLine("an object inside an array");
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

const hexDigits = "0123456789abcdef";
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Appends one field of the row: the JSON value line[start, end) as COPY text for a `kind` column. */
export function appendField(
  out: ByteBuilder,
  line: Uint8Array,
  start: number,
  end: number,
  kind: ColumnKind,
): void {
  if (isNull(line, start, end)) {
    out.bytes(NULL_FIELD);
    return;
  }
  const first = line[start];
  if (kind === "json") {
    out.escaped(line, start, end);
    return;
  }
  if (first === QUOTE) {
    let plain = true;
    for (let index = start + 1; index < end - 1; index++) {
      if (line[index] === BACKSLASH) {
        plain = false;
        break;
      }
    }
    if (kind === "bytea") {
      const text = plain
        ? decoder.decode(line.subarray(start + 1, end - 1))
        : (JSON.parse(decoder.decode(line.subarray(start, end))) as string);
      // Buffer.from skips what is not base64; PostgreSQL's decode() refuses it: the JSON way says so.
      const compact = text.replace(/\s+/g, "");
      if (compact.length % 4 !== 0 || !base64Pattern.test(compact)) {
        throw new UnscannableLine("not base64");
      }
      const bytes = Buffer.from(compact, "base64");
      let hex = "\\\\x";
      for (const byte of bytes) hex += hexDigits[byte >> 4] + (hexDigits[byte & 15] as string);
      out.text(hex);
    } else if (plain) out.bytes(line, start + 1, end - 1);
    else
      out.escaped(encoder.encode(JSON.parse(decoder.decode(line.subarray(start, end))) as string));
    return;
  }
  if (first === OPEN_BRACKET && kind === "array") {
    out.escaped(
      encoder.encode(arrayLiteral(parseExact(decoder.decode(line.subarray(start, end))))),
    );
    return;
  }
  // Numbers, true and false as written; an object or array in a text column as its JSON text.
  out.escaped(line, start, end);
}
