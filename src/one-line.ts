// Outside text (a path, a provider's message or log line, a line of a damaged file) made safe for
// one line of dstream's stderr: line breaks, NULs, terminal escapes and other control characters
// escaped. Shared by the CLI's error lines and the forwarded provider stderr; and a library's
// multi-line message folded into one line of a provider's error.

const unsafe = /[\p{Cc}\u2028\u2029]/gu;
const unsafeButTab = /[^\P{Cc}\t]|[\u2028\u2029]/gu;
const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };

const escapeChar = (char: string) =>
  named[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;

/** `text` with every control character escaped; `keepTabs` keeps tabs (a log line's columns). */
export function oneLine(text: string, options: { keepTabs?: boolean } = {}): string {
  return text.replace(options.keepTabs ? unsafeButTab : unsafe, escapeChar);
}

/** `text` with each run of whitespace (line breaks too) one space, trimmed: a message as one line. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
