// Settings both HTTP providers take (headers, token, timeouts, retries, rate), as valibot entries.
import * as v from "valibot";

export const wholeNumber = (defaultValue: number, minimum = 0) =>
  v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number"),
      v.minValue(minimum, `must be ${minimum} or more`),
    ),
    defaultValue,
  );

export const httpUrl = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("must not be empty"),
  v.check((text) => {
    const url = URL.parse(text);
    return url !== null && (url.protocol === "http:" || url.protocol === "https:");
  }, "must be an http:// or https:// URL"),
);

export const stringMap = v.optional(
  v.record(v.string(), v.string("each value must be a string"), "must be an object of strings"),
  {},
);

/** Entries shared by http-poll and http; each is documented in docs/http.md. */
export const commonHttpEntries = {
  /** Extra request headers (`{ Accept = "application/json" }`); a User-Agent here replaces dstream's. */
  headers: stringMap,
  /** Sent as `Authorization: Bearer <auth_token>`; never shown in logs or errors. */
  auth_token: v.optional(v.string("must be a string"), ""),
  /** Milliseconds one exchange (connect, headers and whole body) may take before it is retried. */
  timeout: wholeNumber(30_000, 1),
  /** Retries after a 429/503, another 5xx, a timeout or a network error; then the task fails. */
  max_retries: wholeNumber(5),
  /** Milliseconds before the first retry; doubled each time (with jitter) up to max_backoff. */
  retry_backoff: wholeNumber(500),
  /** The longest wait between two retries, in milliseconds (a Retry-After header overrides it). */
  max_backoff: wholeNumber(30_000),
  /** Requests per second at most (fractions allowed: 0.5 = one every 2 s); 0 = no limit. */
  rate_limit: v.optional(
    v.pipe(v.number("must be a number"), v.minValue(0, "must be 0 or more")),
    0,
  ),
};

export interface Target {
  /** The configured URL without the credentials written in it. */
  url: URL;
  /** Header names in lower case: the config's own, then the token or the URL's credentials. */
  headers: Record<string, string>;
}

/**
 * Where requests go and with which headers: `auth_token` as a Bearer token (it wins over an
 * Authorization header), else credentials in the URL as Basic auth, never left in the URL itself.
 */
export function targetOf(
  text: string,
  config: { headers: Record<string, string>; auth_token: string },
): Target {
  const url = new URL(text);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  if (config.auth_token !== "") headers.authorization = `Bearer ${config.auth_token}`;
  else if ((url.username || url.password) && headers.authorization === undefined) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
  }
  url.username = "";
  url.password = "";
  return { url, headers };
}
