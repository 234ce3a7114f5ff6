// Turns the walsender's messages into event lines and the position after them: transactions in
// commit order, skipping what the checkpoint says was delivered (whole transactions, or the first
// changes of the one a stop cut).
import type { CdcPosition } from "./checkpoint.ts";
import {
  type ChangeEvent,
  type ChangeOrigin,
  changeLine,
  columnShape,
  rowJson,
  type TableShape,
  tableShape,
} from "./events.ts";
import { formatLsn, type Lsn } from "./lsn.ts";
import {
  type ColumnValue,
  decodePgoutput,
  isoFromPostgresMicros,
  type PgoutputMessage,
  type RelationMessage,
  type ReplicationMessage,
  UNCHANGED_TOAST,
} from "./pgoutput.ts";
import type { TypeCatalog } from "./values.ts";

export interface AssemblerOptions {
  catalog: TypeCatalog;
  /** Key columns per table OID, from the start-up checks (primary key, else replica identity). */
  keyColumns: Map<number, string[]>;
  /** Where to resume: transactions committing before `lsn` were delivered. */
  resume: Extract<CdcPosition, { phase: "stream" }>;
}

interface OpenTransaction {
  commitLsn: Lsn;
  origin: ChangeOrigin;
  /** Already delivered: the whole transaction, or its first `skip` changes. */
  skipAll: boolean;
  skip: number;
  /** Changes of this transaction so far, delivered or skipped. */
  done: number;
}

export class ChangeAssembler {
  readonly #options: AssemblerOptions;
  readonly #relations = new Map<number, TableShape>();
  #text = "";
  #lastEnd: Lsn;
  #sequence: number;
  #transaction: OpenTransaction | undefined;
  /** The server's position from its last keepalive outside a transaction: all before it was seen. */
  #idleLsn: Lsn = 0n;
  #changed = false;

  constructor(options: AssemblerOptions) {
    this.#options = options;
    this.#lastEnd = options.resume.lsn;
    this.#sequence = options.resume.sequence;
  }

  /** Lines waiting to be written, in bytes (about). */
  get pendingLength(): number {
    return this.#text.length;
  }

  get inTransaction(): boolean {
    return this.#transaction !== undefined;
  }

  /** The lines assembled since the last take. */
  take(): string {
    const text = this.#text;
    this.#text = "";
    return text;
  }

  /** Whether the position moved since the last call (a checkpoint line is worth writing). */
  takePositionChange(): boolean {
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  /** After every line taken so far: resume here. */
  get position(): CdcPosition {
    const open = this.#transaction;
    if (open && !open.skipAll && open.done > 0) {
      return {
        phase: "stream",
        lsn: this.#lastEnd,
        sequence: this.#sequence,
        tx: { commitLsn: open.commitLsn, done: open.done },
      };
    }
    return { phase: "stream", lsn: this.#lastEnd, sequence: this.#sequence };
  }

  /**
   * Heartbeat: outside a transaction, moves the position up to the server's last keepalive
   * position (everything before it has been assembled); true when it moved.
   */
  advanceToIdle(): boolean {
    if (this.#transaction || this.#idleLsn <= this.#lastEnd) return false;
    this.#lastEnd = this.#idleLsn;
    this.#changed = true;
    return true;
  }

  push(message: ReplicationMessage): void {
    if (message.tag === "keepalive") {
      if (!this.#transaction) this.#idleLsn = message.walEnd;
      return;
    }
    this.#apply(decodePgoutput(message.payload), message.walStart);
  }

  #apply(message: PgoutputMessage, walStart: Lsn): void {
    switch (message.tag) {
      case "begin": {
        const resume = this.#options.resume;
        this.#transaction = {
          commitLsn: message.finalLsn,
          origin: {
            commitLsn: formatLsn(message.finalLsn),
            txid: message.xid,
            commitTime: isoFromPostgresMicros(message.commitTime),
          },
          skipAll: message.finalLsn < resume.lsn,
          skip: resume.tx?.commitLsn === message.finalLsn ? resume.tx.done : 0,
          done: 0,
        };
        return;
      }
      case "commit": {
        const open = this.#transaction;
        this.#transaction = undefined;
        if (message.endLsn > this.#lastEnd) {
          this.#lastEnd = message.endLsn;
          if (!open?.skipAll) this.#changed = true;
        }
        return;
      }
      case "relation":
        this.#relations.set(message.relationId, this.#shape(message));
        return;
      case "insert": {
        const table = this.#table(message.relationId);
        const row = rowJson(table.columns, message.row);
        this.#emit(walStart, {
          table,
          operation: "insert",
          sequence: 0,
          data: row.json,
          unchanged: row.unchanged,
        });
        return;
      }
      case "update": {
        const table = this.#table(message.relationId);
        // With REPLICA IDENTITY FULL the old row is whole: an unchanged TOASTed value is taken
        // from it, so the event carries the full new row (a key change can then move it whole).
        const values =
          message.old && message.old.kind !== "key"
            ? withUnchangedFrom(message.row, message.old.row)
            : message.row;
        const row = rowJson(table.columns, values);
        const before = message.old
          ? rowJson(table.columns, message.old.row, message.old.kind === "key").json
          : undefined;
        this.#emit(walStart, {
          table,
          operation: "update",
          sequence: 0,
          data: row.json,
          before,
          unchanged: row.unchanged,
        });
        return;
      }
      case "delete": {
        const table = this.#table(message.relationId);
        const before = rowJson(table.columns, message.old.row, message.old.kind === "key").json;
        this.#emit(walStart, { table, operation: "delete", sequence: 0, data: before, before });
        return;
      }
      case "truncate": {
        const extra = `,"cascade":${message.cascade},"restart_identity":${message.restartIdentity}`;
        for (const relationId of message.relationIds) {
          const table = this.#table(relationId);
          this.#emit(walStart, { table, operation: "truncate", sequence: 0, data: "null", extra });
        }
        return;
      }
      case "type":
      case "origin":
      case "message":
        return;
    }
  }

  #emit(walStart: Lsn, event: ChangeEvent): void {
    const open = this.#transaction;
    if (!open) throw new Error("postgres-cdc: a change arrived outside a transaction");
    open.done++;
    if (open.skipAll || open.done <= open.skip) return;
    event.sequence = ++this.#sequence;
    this.#text += changeLine(event, formatLsn(walStart), open.origin);
    this.#changed = true;
  }

  #table(relationId: number): TableShape {
    const table = this.#relations.get(relationId);
    if (!table)
      throw new Error(
        `postgres-cdc: a change names relation ${relationId} before its Relation message`,
      );
    return table;
  }

  #shape(message: RelationMessage): TableShape {
    const { catalog, keyColumns } = this.#options;
    const columns = message.columns.map((column) =>
      columnShape(column.name, catalog.resolve(column.typeOid), column.isKey),
    );
    const keys =
      keyColumns.get(message.relationId) ??
      message.columns.filter((column) => column.isKey).map((column) => column.name);
    return tableShape(message.namespace, message.name, columns, keys);
  }
}

/** `row` with each unchanged TOAST value taken from `old` where the old row holds it. */
function withUnchangedFrom(row: ColumnValue[], old: ColumnValue[]): ColumnValue[] {
  if (!row.includes(UNCHANGED_TOAST)) return row;
  return row.map((value, index) => {
    const previous = old[index];
    return value === UNCHANGED_TOAST && previous !== undefined ? previous : value;
  });
}
