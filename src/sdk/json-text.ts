// A JSON value's own text as part of an event line: checked, never parsed into doubles and written
// again, so an int64 or a long decimal keeps every digit its producer wrote.

const lineBreaks = /[\n\r]/g;

/**
 * `text` as one line of JSON, or undefined when it is not JSON. Its raw line feeds and carriage
 * returns can only be whitespace (a JSON string escapes its own), so they become spaces: readers
 * that also end lines at a carriage return see one line too.
 */
export function oneLineJson(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  return text.includes("\n") || text.includes("\r") ? text.replace(lineBreaks, " ") : text;
}
