// The postgres-cdc checkpoint: which phase the input is in and where to resume.
//   {"phase":"snapshot","sequence":n}  a snapshot was under way: the next run starts it over
//   {"phase":"stream","lsn":"0/16B3748","sequence":n}  every transaction ending at or before lsn is delivered
//   {..."stream", "tx":"0/16B3800","done":k}  and the first k changes of the transaction committing at tx
import { formatLsn, isLsnText, type Lsn, parseLsn } from "./lsn.ts";

export type CdcPosition =
  | { phase: "snapshot"; sequence: number }
  | { phase: "stream"; lsn: Lsn; sequence: number; tx?: { commitLsn: Lsn; done: number } };

export function positionJson(position: CdcPosition): string {
  if (position.phase === "snapshot") {
    return `{"phase":"snapshot","sequence":${position.sequence}}`;
  }
  const tx = position.tx
    ? `,"tx":"${formatLsn(position.tx.commitLsn)}","done":${position.tx.done}`
    : "";
  return `{"phase":"stream","lsn":"${formatLsn(position.lsn)}"${tx},"sequence":${position.sequence}}`;
}

/** A checkpoint line for the position, newline included. */
export function positionLine(position: CdcPosition): string {
  return `{"checkpoint":${positionJson(position)}}\n`;
}

function invalid(checkpoint: unknown): Error {
  return new Error(
    `postgres-cdc: checkpoint ${JSON.stringify(checkpoint)} is not a postgres-cdc position ({"phase":"stream","lsn":"0/16B3748","sequence":n}); reset it with dstream state reset`,
  );
}

const isCount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/** The committed checkpoint dstream handed over; null on a first run. */
export function parseCheckpoint(checkpoint: unknown): CdcPosition | null {
  if (checkpoint === null || checkpoint === undefined) return null;
  if (typeof checkpoint !== "object") throw invalid(checkpoint);
  const value = checkpoint as Record<string, unknown>;
  if (!isCount(value.sequence)) throw invalid(checkpoint);
  if (value.phase === "snapshot") return { phase: "snapshot", sequence: value.sequence };
  if (value.phase !== "stream" || !isLsnText(value.lsn)) throw invalid(checkpoint);
  const position: CdcPosition = {
    phase: "stream",
    lsn: parseLsn(value.lsn),
    sequence: value.sequence,
  };
  if (value.tx !== undefined) {
    if (!isLsnText(value.tx) || !isCount(value.done)) throw invalid(checkpoint);
    position.tx = { commitLsn: parseLsn(value.tx), done: value.done };
  }
  return position;
}
