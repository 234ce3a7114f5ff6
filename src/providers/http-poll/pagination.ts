// The next page after an answer: a Link header (rel="next"), a next-URL or cursor in the body, or
// a page number / offset counted up until a page is empty.

import { valueAt } from "./records.ts";
import type { HttpPollConfig } from "./schema.ts";

export type PaginationStyle = "link" | "next" | "cursor" | "page" | "offset";

export function paginationStyle(config: HttpPollConfig): PaginationStyle {
  if (config.next) return "next";
  if (config.cursor) return "cursor";
  if (config.page_param) return "page";
  if (config.offset_param) return "offset";
  return "link";
}

/** The links of an RFC 8288 header: `<target>; param=value; ...`, split at commas outside quotes. */
function* linksOf(header: string): Generator<{ target: string; params: string }> {
  for (let at = 0; at < header.length; ) {
    const open = header.indexOf("<", at);
    const close = open === -1 ? -1 : header.indexOf(">", open);
    if (close === -1) return;
    let end = close + 1;
    for (let quoted = false; end < header.length; end++) {
      const char = header[end];
      if (char === '"') quoted = !quoted;
      else if (char === "\\" && quoted) end++;
      else if (char === "," && !quoted) break;
    }
    yield { target: header.slice(open + 1, close), params: header.slice(close + 1, end) };
    at = end + 1;
  }
}

/** The rel="next" target of an RFC 8288 Link header, resolved against the page's URL. */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (!header) return undefined;
  for (const { target, params } of linksOf(header)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) return URL.parse(target, base.href) ?? undefined;
  }
  return undefined;
}

function withParam(url: URL, name: string, value: string): URL {
  const next = new URL(url);
  next.searchParams.set(name, value);
  return next;
}

/** A query parameter's whole-number value in `url`, or `fallback`. */
function numberParam(url: URL, name: string, fallback: number): number {
  const value = Number(url.searchParams.get(name) ?? Number.NaN);
  return Number.isSafeInteger(value) ? value : fallback;
}

export interface PageAnswer {
  url: URL;
  headers: Headers;
  body: unknown;
  recordCount: number;
}

/** The URL of the page after `answer`, or undefined when this was the last. */
export function nextPage(config: HttpPollConfig, answer: PageAnswer): URL | undefined {
  const { url } = answer;
  switch (paginationStyle(config)) {
    case "link":
      return nextLink(answer.headers.get("link"), url);
    case "next": {
      const target = valueAt(answer.body, config.next);
      if (typeof target !== "string" || target === "") return undefined;
      const parsed = URL.parse(target, url.href);
      if (!parsed) throw new Error(`"${config.next}" in the response is not a URL (check next)`);
      return parsed;
    }
    case "cursor": {
      const cursor = valueAt(answer.body, config.cursor);
      if (cursor === undefined || cursor === null || cursor === "" || cursor === false)
        return undefined;
      if (typeof cursor === "object") {
        throw new Error(
          `"${config.cursor}" in the response is not a string or number (check cursor)`,
        );
      }
      return withParam(url, config.cursor_param, String(cursor));
    }
    case "page": {
      if (answer.recordCount === 0) return undefined;
      const page = numberParam(url, config.page_param, config.page_start);
      return withParam(url, config.page_param, String(page + 1));
    }
    case "offset": {
      if (answer.recordCount === 0) return undefined;
      const offset = numberParam(url, config.offset_param, 0);
      return withParam(url, config.offset_param, String(offset + answer.recordCount));
    }
  }
}

/** The first page of a pass: the endpoint with the configured query, the page start and the cursor. */
export function firstPage(config: HttpPollConfig, endpoint: URL, cursor: string | undefined): URL {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(config.query)) url.searchParams.set(name, value);
  if (config.page_param && !url.searchParams.has(config.page_param)) {
    url.searchParams.set(config.page_param, String(config.page_start));
  }
  if (cursor !== undefined) url.searchParams.set(cursorFieldParam(config), cursor);
  return url;
}

/** The query parameter the cursor_field's value goes out in. */
export function cursorFieldParam(config: HttpPollConfig): string {
  return (
    config.cursor_field_param || (config.cursor_field.split(".").at(-1) ?? config.cursor_field)
  );
}
