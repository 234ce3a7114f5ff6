// A JSON value's own text as part of an event line: checked, never parsed into doubles and written
// again, so an int64 or a long decimal keeps every digit its producer wrote.

/**
 * `text` as one line of JSON, or undefined when it is not JSON. Its raw newlines can only be
 * whitespace (a JSON string escapes its own), so they become spaces.
 */
export function oneLineJson(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  return text.includes("\n") ? text.replaceAll("\n", " ") : text;
}
