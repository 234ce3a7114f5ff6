// counter input: emits 1, 2, 3... with a timestamp, `interval` ms apart, up to `maxCount` (0 = forever).
import * as v from "valibot";
import { configObject, defineInput } from "../../sdk/index.ts";

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

export const counterInput = defineInput({
  schema: counterConfigSchema,
  async *run(config, context) {
    for (let value = 1; config.maxCount === 0 || value <= config.maxCount; value++) {
      if (value > 1 && config.interval > 0) await context.sleep(config.interval);
      if (context.signal.aborted) return;
      yield {
        data: { value, timestamp: new Date().toISOString() },
        metadata: { provider: "counter", sequence: value },
      };
    }
  },
});
