// null output: discards every line at full speed, counting them; logs the count to stderr at the end.
import { defineOutput } from "../../sdk/index.ts";
import { nullConfigSchema } from "./schema.ts";

export { nullConfigSchema };

function countNewlines(chunk: Uint8Array): number {
  let count = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) count++;
  return count;
}

export const nullOutput = defineOutput({
  schema: nullConfigSchema,
  open() {
    let lines = 0;
    let bytes = 0;
    return {
      writeRaw(chunk) {
        lines += countNewlines(chunk);
        bytes += chunk.length;
      },
      close(context) {
        context.log(`discarded ${lines} lines (${bytes} bytes)`);
      },
    };
  },
});
