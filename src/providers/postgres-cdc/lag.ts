// The WAL the task's slot keeps on the server, during a run: checked now and then on a connection
// of its own, and said once, in one log line, when it passes lag_warning_bytes.
import type pg from "pg";
import { connect } from "./connection.ts";
import { slotState } from "./resources.ts";
import type { PostgresCdcConfig } from "./schema.ts";

/** "52428800 bytes (50.0 MiB)": exact, and readable. */
export function bytesText(bytes: number): string {
  if (bytes < 1024 * 1024) return `${bytes} bytes`;
  if (bytes < 1024 ** 3) return `${bytes} bytes (${(bytes / 1024 ** 2).toFixed(1)} MiB)`;
  return `${bytes} bytes (${(bytes / 1024 ** 3).toFixed(1)} GiB)`;
}

export class SlotLagWatch {
  #client: pg.Client | undefined;
  #checking = false;
  #done = false;
  #nextCheck = 0;

  constructor(
    private readonly config: PostgresCdcConfig,
    private readonly slot: string,
    private readonly task: string,
    private readonly log: (line: string) => void,
  ) {
    this.#done = config.lag_warning_bytes === 0;
  }

  /** Starts a check when one is due (every heartbeat, at most every 10 s with none); never waits. */
  tick(): void {
    const now = Date.now();
    if (this.#done || this.#checking || now < this.#nextCheck) return;
    this.#nextCheck = now + (this.config.heartbeat > 0 ? this.config.heartbeat : 10_000);
    this.#checking = true;
    this.#check()
      .catch(() => {
        // The stream notices a server that went away; a failed check is tried again later.
        this.#end();
      })
      .finally(() => {
        this.#checking = false;
      });
  }

  async #check(): Promise<void> {
    this.#client ??= await connect(this.config, false);
    const retained = this.#done
      ? 0
      : ((await slotState(this.#client, this.slot)).retainedBytes ?? 0);
    if (this.#done) return this.#end();
    if (retained < this.config.lag_warning_bytes) return;
    this.#done = true;
    this.#end();
    this.log(
      `warning: slot "${this.slot}" keeps ${bytesText(retained)} of WAL on the server's disk (from its restart_lsn), past lag_warning_bytes = ${this.config.lag_warning_bytes}; it is released as dstream commits checkpoints: if it keeps growing, the output is slow or failing (watch it with dstream status ${this.task || "<task>"} --provider input)`,
    );
  }

  #end(): void {
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
  }

  /** Stops checking and closes the connection. */
  close(): void {
    this.#done = true;
    if (!this.#checking) this.#end();
  }
}
