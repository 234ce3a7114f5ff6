// http output settings: loadable without the provider (dstream validate checks them).
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";
import { commonHttpEntries, httpUrl, wholeNumber } from "../http-common/settings.ts";

/** Events in one request at most: what the SDK hands the output in one batch bounds it too. */
export const MAX_BATCH_EVENTS = 10_000;

export const httpOutputConfigSchema = configObject({
  /** Where the events are sent (`https://ingest.example.com/events`); credentials in it are sent as Basic auth. */
  url: httpUrl,
  /** The request method. */
  method: v.optional(
    v.picklist(["POST", "PUT", "PATCH"], 'must be "POST", "PUT" or "PATCH"'),
    "POST",
  ),
  /** ndjson: one envelope per line (application/x-ndjson); json: one JSON array of envelopes per request. */
  format: v.optional(v.picklist(["ndjson", "json"], 'must be "ndjson" or "json"'), "ndjson"),
  /** Events per request at most; 1 = one request per event. */
  batch: v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number"),
      v.minValue(1, "must be 1 or more"),
      v.maxValue(MAX_BATCH_EVENTS, `must be ${MAX_BATCH_EVENTS} or less`),
    ),
    1000,
  ),
  /** Body bytes per request at most (a longer event is sent alone). */
  batch_bytes: wholeNumber(1024 * 1024, 1),
  /** Header carrying `<task>:<first sequence>-<last sequence>` of the request's events, so a receiver can drop replays; "" = none. */
  idempotency_header: v.optional(v.string("must be a string"), "Idempotency-Key"),
  ...commonHttpEntries,
});

export type HttpOutputConfig = v.InferOutput<typeof httpOutputConfigSchema>;
