// file input and output settings: loadable without the providers.
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";
import { isGlob } from "./glob.ts";

export const fileInputConfigSchema = v.pipe(
  configObject({
    /** A file, or a glob (`logs/*.jsonl`) read file after file in sorted order. */
    path: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
    /**
     * jsonl: each line is any JSON value, sent as `{"data":<value>,"metadata":{"file","line"}}`;
     * raw: each line already is an envelope and is passed on byte for byte.
     */
    format: v.optional(v.picklist(["jsonl", "raw"], 'must be "jsonl" or "raw"'), "jsonl"),
    /** Keep reading what is appended, like `tail -F`, across rotation, truncation and rewrites in place. */
    follow: v.optional(v.boolean("must be true or false"), false),
  }),
  v.forward(
    v.check((config) => !(config.follow && isGlob(config.path)), "needs one file, not a glob"),
    ["follow"],
  ),
);

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
