// counter input settings: loadable without the provider (dstream validate checks them).
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";

const wholeNumber = (defaultValue: number) =>
  v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number"),
      v.minValue(0, "must be 0 or more"),
    ),
    defaultValue,
  );

export const counterConfigSchema = configObject({
  /** Milliseconds between messages; 0 emits as fast as the pipe takes them. */
  interval: wholeNumber(1000),
  /** Messages to emit before exiting; 0 = forever (until SIGTERM). */
  maxCount: wholeNumber(0),
});
