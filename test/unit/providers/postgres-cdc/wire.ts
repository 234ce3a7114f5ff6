// Builds pgoutput and walsender messages byte by byte, as PostgreSQL writes them, for the unit tests.

export class Wire {
  readonly #parts: Buffer[] = [];

  byte(value: number): this {
    this.#parts.push(Buffer.from([value]));
    return this;
  }
  char(text: string): this {
    return this.byte(text.charCodeAt(0));
  }
  int16(value: number): this {
    const bytes = Buffer.alloc(2);
    bytes.writeInt16BE(value);
    this.#parts.push(bytes);
    return this;
  }
  int32(value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value >>> 0);
    this.#parts.push(bytes);
    return this;
  }
  int64(value: bigint): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(value);
    this.#parts.push(bytes);
    return this;
  }
  cstring(text: string): this {
    this.#parts.push(Buffer.from(`${text}\0`, "utf8"));
    return this;
  }
  /** TupleData: text values, null, or "u" for unchanged TOAST ({ toast: true }). */
  tuple(values: (string | null | { toast: true })[]): this {
    this.int16(values.length);
    for (const value of values) {
      if (value === null) this.char("n");
      else if (typeof value === "object") this.char("u");
      else {
        const bytes = Buffer.from(value, "utf8");
        this.char("t").int32(bytes.length);
        this.#parts.push(bytes);
      }
    }
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

export const begin = (finalLsn: bigint, xid: number, commitTime = 0n) =>
  new Wire().char("B").int64(finalLsn).int64(commitTime).int32(xid).bytes();

export const commitMessage = (commitLsn: bigint, endLsn: bigint, commitTime = 0n) =>
  new Wire().char("C").byte(0).int64(commitLsn).int64(endLsn).int64(commitTime).bytes();

export function relation(
  id: number,
  namespace: string,
  name: string,
  columns: { name: string; type: number; key?: boolean }[],
  identity = "d",
): Buffer {
  const wire = new Wire()
    .char("R")
    .int32(id)
    .cstring(namespace)
    .cstring(name)
    .char(identity)
    .int16(columns.length);
  for (const column of columns)
    wire
      .byte(column.key ? 1 : 0)
      .cstring(column.name)
      .int32(column.type)
      .int32(-1);
  return wire.bytes();
}

export const insert = (id: number, values: (string | null | { toast: true })[]) =>
  new Wire().char("I").int32(id).char("N").tuple(values).bytes();

/** XLogData around a pgoutput message. */
export const xlog = (walStart: bigint, payload: Buffer) =>
  Buffer.concat([new Wire().char("w").int64(walStart).int64(walStart).int64(0n).bytes(), payload]);

export const keepalive = (walEnd: bigint, reply: boolean) =>
  new Wire()
    .char("k")
    .int64(walEnd)
    .int64(0n)
    .byte(reply ? 1 : 0)
    .bytes();
