// postgres-cdc input: a snapshot, then logical replication (pgoutput) from a persistent slot. The
// slot's confirmed position moves only in onCommit, once dstream has made a checkpoint durable.
import { defineInput } from "../../sdk/index.ts";
import { capture, commitTarget } from "./capture.ts";
import { parseCheckpoint } from "./checkpoint.ts";
import { inputLifecycle } from "./lifecycle.ts";
import { postgresCdcConfigSchema } from "./schema.ts";

export { postgresCdcConfigSchema };

export const postgresCdcInput = defineInput({
  schema: postgresCdcConfigSchema,
  ...inputLifecycle,
  run: capture,
  onCommit(checkpoint) {
    const position = parseCheckpoint(checkpoint);
    // A snapshot's checkpoints hold nothing upstream; a stream's release WAL up to its last whole
    // transaction (never the part of one a stop cut).
    if (position?.phase !== "stream") return;
    if (position.lsn > commitTarget.committed) commitTarget.committed = position.lsn;
    commitTarget.stream?.confirm(position.lsn);
  },
});
