// Outside text (a path, a provider's message, a line of a damaged file) made safe for one line of
// dstream's stderr: line breaks, NULs, terminal escapes and other control characters escaped.

const unsafe = /[\p{Cc}\u2028\u2029]/gu;
const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };

export function oneLine(text: string): string {
  return text.replace(
    unsafe,
    (char) => named[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}
