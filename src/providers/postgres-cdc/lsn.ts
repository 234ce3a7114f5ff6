// PostgreSQL log sequence numbers: 64-bit WAL positions written "XXXXXXXX/XXXXXXXX" (hex halves).

export type Lsn = bigint;

const lsnPattern = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function isLsnText(text: unknown): text is string {
  return typeof text === "string" && lsnPattern.test(text);
}

export function parseLsn(text: string): Lsn {
  const match = lsnPattern.exec(text);
  if (!match) throw new Error(`"${text}" is not an LSN (like "0/16B3748")`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** As PostgreSQL writes it: upper-case hex halves without leading zeros ("0/16B3748"). */
export function formatLsn(lsn: Lsn): string {
  const high = (lsn >> 32n).toString(16).toUpperCase();
  const low = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}
