// counter input: emits 1, 2, 3... with a timestamp, `interval` ms apart, up to `maxCount` (0 = forever).
import { defineInput } from "../../sdk/index.ts";
import { counterConfigSchema } from "./schema.ts";

export { counterConfigSchema };

/** The checkpoint is the last value emitted: `{"value": n}`. */
function resumeAfter(checkpoint: unknown): number {
  if (checkpoint === null || checkpoint === undefined) return 0;
  const value = (checkpoint as { value?: unknown }).value;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(
      `checkpoint ${JSON.stringify(checkpoint)} is not a counter position ({"value": n}); reset it with dstream state reset`,
    );
  }
  return value;
}

export const counterInput = defineInput({
  schema: counterConfigSchema,
  async *run(config, context) {
    const first = resumeAfter(context.checkpoint) + 1;
    if (config.maxCount !== 0 && first > config.maxCount) {
      // A finished counter run again: say why nothing comes, and how to start over.
      context.log(
        `already sent all ${config.maxCount} values (resumed after ${first - 1}); dstream state reset <task> starts over`,
      );
      return;
    }
    for (let value = first; config.maxCount === 0 || value <= config.maxCount; value++) {
      if (value > first && config.interval > 0) await context.sleep(config.interval);
      if (context.signal.aborted) return;
      yield {
        data: { value, timestamp: new Date().toISOString() },
        metadata: { provider: "counter", sequence: value },
        checkpoint: { value },
      };
    }
  },
});
