// http-poll input settings: loadable without the provider (dstream validate checks them).
import * as v from "valibot";
import { configObject } from "../../sdk/config.ts";
import { commonHttpEntries, httpUrl, stringMap, wholeNumber } from "../http-common/settings.ts";

const dottedPath = v.optional(v.string("must be a string (a dotted path such as data.items)"), "");
const paramName = v.optional(v.string("must be a string (a query parameter name)"), "");

export const httpPollConfigSchema = v.pipe(
  configObject({
    /** The first page's URL (`https://api.example.com/v1/orders`); credentials in it are sent as Basic auth. */
    endpoint: httpUrl,
    /** The request method. */
    method: v.optional(
      v.picklist(["GET", "POST", "PUT", "PATCH"], 'must be "GET", "POST", "PUT" or "PATCH"'),
      "GET",
    ),
    /** Query parameters added to the endpoint's (`{ status = "open", limit = "100" }`). */
    query: stringMap,
    /** Request body: a string as is, any other value as JSON (with content-type application/json). */
    body: v.optional(v.unknown()),
    /** Milliseconds between two polls; 0 = one pass over all pages, then the input ends. */
    poll_interval: wholeNumber(60_000),
    /** Where the records' array sits in the body (`data.items`); "" = the body if it is an array, else the body is one record. */
    records: dottedPath,
    /** Body field holding the next page's URL (`paging.next`); pagination ends when it is empty. */
    next: dottedPath,
    /** Body field holding the next page's cursor (`meta.cursor`), sent as cursor_param. */
    cursor: dottedPath,
    /** The query parameter the body cursor is sent in. */
    cursor_param: v.optional(
      v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
      "cursor",
    ),
    /** A page-number query parameter (`page`), counted up from page_start until a page is empty. */
    page_param: paramName,
    /** The first page's number when page_param is set. */
    page_start: wholeNumber(1),
    /** An offset query parameter (`offset`), advanced by each page's record count until a page is empty. */
    offset_param: paramName,
    /** Record field (`updated_at`, `meta.version`) whose highest value is the checkpoint; records should come in ascending order of it. */
    cursor_field: dottedPath,
    /** The query parameter the highest cursor_field value is sent in on the next poll (default: cursor_field's last part). */
    cursor_field_param: paramName,
    ...commonHttpEntries,
  }),
  v.forward(
    v.check(
      (config) =>
        [config.next, config.cursor, config.page_param, config.offset_param].filter(Boolean)
          .length <= 1,
      "use one of next, cursor, page_param and offset_param (Link headers are followed when none is set)",
    ),
    ["next"],
  ),
);

export type HttpPollConfig = v.InferOutput<typeof httpPollConfigSchema>;
