// file output: appends each line as received (JSONL) to a file; fsync on close; optional size rotation.
import * as v from "valibot";
import { configObject, defineOutput } from "../../sdk/index.ts";
import { RotatingFile } from "./rotating-file.ts";

export const fileOutputConfigSchema = configObject({
  /** The file to append to; created when missing (its folder must exist). */
  path: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
  /**
   * Rotate once the file would pass this many bytes (0 = never): the full file is renamed to
   * path.N with the next free N (path.1 is the oldest) and a new file is started. Files are cut
   * between lines only.
   */
  rotateBytes: v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number"),
      v.minValue(0, "must be 0 or more"),
    ),
    0,
  ),
});

export const fileOutput = defineOutput({
  schema: fileOutputConfigSchema,
  async open({ config }) {
    const file = await RotatingFile.open(config.path, config.rotateBytes);
    return {
      writeRaw: (chunk) => file.append(chunk),
      close: () => file.close(),
    };
  },
});
