// console output: prints each event to stdout, as "Message #n: <data>", indented JSON, or as received.
import { type Batch, defineOutput } from "../../sdk/index.ts";
import { consoleConfigSchema } from "./schema.ts";

export { consoleConfigSchema };

function formatSimple(batch: Batch): string {
  let text = "";
  for (let index = 0; index < batch.size; index++) {
    const envelope = batch.envelope(index);
    const shown = typeof envelope === "object" && envelope !== null ? envelope.data : envelope;
    text += `Message #${batch.firstLineNumber + index}: ${JSON.stringify(shown)}\n`;
  }
  return text;
}

function formatStructured(batch: Batch): string {
  let text = "";
  for (let index = 0; index < batch.size; index++) {
    text += `${JSON.stringify(batch.envelope(index), null, 2)}\n`;
  }
  return text;
}

export const consoleOutput = defineOutput({
  schema: consoleConfigSchema,
  open({ config }) {
    if (config.outputFormat === "json") {
      return { writeRaw: (chunk, context) => context.stdout.write(chunk) };
    }
    const format = config.outputFormat === "simple" ? formatSimple : formatStructured;
    return { write: (batch, context) => context.stdout.write(format(batch)) };
  },
});
