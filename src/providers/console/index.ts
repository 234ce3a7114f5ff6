// console output: prints each event to stdout, as "Message #n: <data>", indented JSON, or as received.
import * as v from "valibot";
import { type Batch, configObject, defineOutput } from "../../sdk/index.ts";

export const consoleConfigSchema = configObject({
  /**
   * simple: `Message #1: {"value":1,...}` (compact JSON of data); structured: the whole envelope,
   * metadata included, as JSON indented by 2 spaces; json: each line exactly as received.
   */
  outputFormat: v.optional(
    v.picklist(["simple", "structured", "json"], 'must be "simple", "structured" or "json"'),
    "simple",
  ),
});

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
