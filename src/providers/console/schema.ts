// console output settings: loadable without the provider.
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";

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
