// file output: appends each line as received (JSONL) to a file; fsync before each acknowledgement
// and on close; optional size rotation.
import { defineOutput } from "../../sdk/index.ts";
import { RotatingFile } from "./rotating-file.ts";
import { fileOutputConfigSchema } from "./schema.ts";

export { fileOutputConfigSchema };

export const fileOutput = defineOutput({
  schema: fileOutputConfigSchema,
  async open({ config }) {
    const file = await RotatingFile.open(config.path, config.rotateBytes);
    return {
      writeRaw: (chunk) => file.append(chunk),
      flush: () => file.sync(),
      close: () => file.close(),
    };
  },
});
