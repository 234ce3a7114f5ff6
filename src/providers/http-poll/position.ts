// http-poll's checkpoint: the events' sequence, the highest cursor_field value with the records
// already sent at it, the page a pass was on (without cursor_field), and the ETag/Last-Modified
// of the last finished pass's first page.
import type { Secrets } from "../http-common/secrets.ts";
import type { CursorValue } from "./records.ts";

export interface PagePosition {
  /** The page's URL, the config's secret values masked (they are put back from the config). */
  url: string;
  /** The page's number in its pass, from 1. */
  number: number;
  /** Records of that page already sent. */
  skip: number;
}

export interface Validator {
  url: string;
  etag?: string;
  last_modified?: string;
}

export interface HttpPollPosition {
  /** metadata.sequence of the last event sent. */
  sequence: number;
  /** The highest cursor_field value sent. */
  cursor?: CursorValue;
  /** Fingerprints of the records sent whose cursor_field value is `cursor`. */
  seen?: string[];
  /** A pass in progress (only without cursor_field, which restarts a pass from the cursor). */
  page?: PagePosition;
  validator?: Validator;
}

/** Records remembered at the cursor boundary at most; past it the oldest are forgotten. */
export const MAX_SEEN = 1000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function isPosition(value: unknown): value is HttpPollPosition {
  if (!isObject(value) || !Number.isSafeInteger(value.sequence)) return false;
  const { cursor, seen, page, validator } = value;
  if (cursor !== undefined && typeof cursor !== "string" && typeof cursor !== "number")
    return false;
  if (
    seen !== undefined &&
    !(Array.isArray(seen) && seen.every((item) => typeof item === "string"))
  )
    return false;
  if (page !== undefined) {
    if (!isObject(page) || typeof page.url !== "string" || !URL.canParse(page.url)) return false;
    if (!Number.isSafeInteger(page.number) || !Number.isSafeInteger(page.skip)) return false;
  }
  return validator === undefined || (isObject(validator) && typeof validator.url === "string");
}

/** The position to resume from; a value of another shape is refused with the fix. */
export function parsePosition(checkpoint: unknown): HttpPollPosition {
  if (checkpoint === null || checkpoint === undefined) return { sequence: 0 };
  if (!isPosition(checkpoint)) {
    const shown = JSON.stringify(checkpoint).slice(0, 120);
    throw new Error(
      `checkpoint ${shown} is not an http-poll position ({"sequence": n, ...}); reset it with dstream state reset`,
    );
  }
  return checkpoint;
}

/**
 * A URL as kept in the state: the config's secret values masked, nothing else (a server's own
 * `page_token` must survive to resume with, though a shown URL masks it by its name).
 */
export function storedUrl(url: URL, secrets: Secrets): string {
  return secrets.scrub(url.href);
}

/** A stored URL with its masked query values put back from the pass's first page. */
export function restoredUrl(stored: string, first: URL): URL {
  const url = new URL(stored);
  for (const [name, value] of [...url.searchParams]) {
    const original = first.searchParams.get(name);
    if (value === "***" && original !== null) url.searchParams.set(name, original);
  }
  return url;
}
