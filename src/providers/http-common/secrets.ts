// The secrets of an HTTP provider's config (tokens, passwords in URLs, credential headers and query
// values) and the one place that takes them out of URLs and messages before anything is shown.

/** Query parameters and headers whose values are credentials by their name. */
const SECRET_NAME = /token|key|secret|passw|signature|^sig$|auth|credential|session|cookie/i;
const MASK = "***";
/** Shorter values would mask ordinary words in messages; a credential is never this short. */
const MIN_SECRET_LENGTH = 4;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export class Secrets {
  readonly #values: string[];

  constructor(values: readonly (string | undefined)[]) {
    const all = new Set<string>();
    for (const value of values) {
      if (value === undefined || value.length < MIN_SECRET_LENGTH) continue;
      all.add(value);
      all.add(encodeURIComponent(value));
    }
    // Longest first, so a value that contains another is masked whole.
    this.#values = [...all].sort((a, b) => b.length - a.length);
  }

  /** The secrets of a config: its token, its URL's credentials, credential headers and query values. */
  static of(config: {
    auth_token?: string;
    urls?: readonly string[];
    headers?: Record<string, string>;
    query?: Record<string, string>;
  }): Secrets {
    const values: (string | undefined)[] = [config.auth_token];
    for (const text of config.urls ?? []) {
      const url = URL.parse(text);
      if (!url) continue;
      values.push(decodeURIComponent(url.password), url.password);
      if (!url.password) values.push(decodeURIComponent(url.username), url.username);
      // As sent in the Basic header, which a server may echo back.
      const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      if (url.username || url.password) values.push(Buffer.from(pair).toString("base64"));
      for (const [name, value] of url.searchParams) if (isSecretName(name)) values.push(value);
    }
    for (const [name, value] of Object.entries(config.headers ?? {})) {
      if (isSecretName(name)) values.push(value, value.replace(/^(Bearer|Basic|Token)\s+/i, ""));
    }
    for (const [name, value] of Object.entries(config.query ?? {})) {
      if (isSecretName(name)) values.push(value);
    }
    return new Secrets(values);
  }

  /** `text` with every secret value replaced by ***. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.#values) {
      if (out.includes(value)) out = out.replaceAll(value, MASK);
    }
    return out;
  }

  /** A URL fit to show: no password (nor a user name standing alone), credential query values masked. */
  url(url: URL | string): string {
    const copy = URL.parse(String(url));
    if (!copy) return this.scrub(String(url));
    if (copy.password) copy.password = MASK;
    else if (copy.username) copy.username = MASK;
    for (const name of [...copy.searchParams.keys()]) {
      if (isSecretName(name)) copy.searchParams.set(name, MASK);
    }
    // URLSearchParams encodes * as %2A: show the mask as written.
    return this.scrub(copy.href.replaceAll("%2A%2A%2A", MASK));
  }
}
