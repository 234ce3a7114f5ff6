// Example provider written with @dstream/sdk: an input that emits a list of words as events.
// Build it into its own executable with `bun build.ts` (from the repository's root: `bun
// examples/provider-ts/build.ts`), then point a task's input at it with provider_path (see
// dstream.hcl beside this file).
import { configObject, defineInput, serve } from "@dstream/sdk";
import * as v from "valibot";

// The config schema is the single source of defaults, validation and error messages.
const schema = configObject({
  words: v.optional(
    v.pipe(
      v.array(v.string("each word must be a string"), "must be a list of strings"),
      v.minLength(1, "must hold at least one word"),
    ),
    ["alpha", "beta", "gamma"],
  ),
  /** How many times to go through the list. */
  repeat: v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number"),
      v.minValue(1, "must be 1 or more"),
    ),
    1,
  ),
  /** Milliseconds between words. */
  interval: v.optional(v.pipe(v.number("must be a number"), v.minValue(0, "must be 0 or more")), 0),
  upper: v.optional(v.boolean("must be true or false"), false),
});

const words = defineInput({
  schema,
  async *run(config, context) {
    let sequence = 0;
    for (let round = 1; round <= config.repeat; round++) {
      for (const word of config.words) {
        // context.sleep returns early on SIGTERM; the SDK then flushes and exits 0.
        if (sequence > 0 && config.interval > 0) await context.sleep(config.interval);
        if (context.signal.aborted) return;
        sequence++;
        yield {
          data: { word: config.upper ? word.toUpperCase() : word, round },
          metadata: { provider: "words", sequence },
        };
      }
    }
    context.log(`emitted ${sequence} words`);
  },
  // dstream plan <task> --provider input: say what a run would do.
  plan: (config) => ({
    message: `would emit ${config.words.length * config.repeat} words`,
    resources: [],
  }),
});

await serve(words);
