// Where each block and attribute of dstream.lock.hcl starts, for errors about its content: HCL's
// JSON carries no positions. Reads only names, labels and braces of source the HCL parser accepted;
// strings and comments are skipped.

export interface LockPosition {
  line: number;
  column: number;
}

/** Joins a path of block types, labels and attribute names into a key of lockFilePositions. */
export const positionKey = (path: readonly string[]) => path.join("\u0000");

const token =
  /[ \t\r]+|\n|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|[\p{ID_Start}_][\p{ID_Continue}-]*|[\s\S]/uy;

/** A quoted label's text; HCL escapes are JSON's but for \U, and a label with one is rare. */
function labelText(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/** The first position of each path (`provider`, label, `platform`, label, attribute). */
export function lockFilePositions(source: string): Map<string, LockPosition> {
  const positions = new Map<string, LockPosition>();
  /** The path of each open brace: a block's, or undefined for an object value. */
  const open: (string[] | undefined)[] = [];
  let pending: { words: string[]; at: LockPosition } | undefined;
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < source.length; ) {
    token.lastIndex = index;
    const text = (token.exec(source) as RegExpExecArray)[0];
    const at = { line, column: index - lineStart + 1 };
    index += text.length;
    if (text === "\n" || text.startsWith("/*")) {
      for (let offset = index - text.length; offset < index; offset++) {
        if (source[offset] === "\n") {
          line++;
          lineStart = offset + 1;
        }
      }
      if (text === "\n" && pending?.words.length === 1) pending = undefined;
      continue;
    }
    if (/^[\s#]|^\/\//.test(text)) continue;
    const outer = open.length === 0 ? [] : open[open.length - 1];
    if (text === "{") {
      const path = outer && pending ? [...outer, ...pending.words] : undefined;
      // The block's type alone, and with each of its labels.
      for (let end = (outer?.length ?? 0) + 1; path && pending && end <= path.length; end++) {
        const key = positionKey(path.slice(0, end));
        if (!positions.has(key)) positions.set(key, pending.at);
      }
      open.push(path);
      pending = undefined;
    } else if (text === "}") {
      open.pop();
      pending = undefined;
    } else if (text === "=" && outer && pending?.words.length === 1) {
      const path = positionKey([...outer, ...pending.words]);
      if (!positions.has(path)) positions.set(path, pending.at);
      pending = undefined;
    } else if (text.startsWith('"') && pending) {
      pending.words.push(labelText(text));
    } else if (/^[\p{ID_Start}_]/u.test(text) && !pending) {
      pending = { words: [text], at };
    } else {
      pending = undefined;
    }
  }
  return positions;
}
