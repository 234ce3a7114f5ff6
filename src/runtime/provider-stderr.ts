// A provider's stderr: forwarded line by line with its [task/role] prefix (control characters
// escaped), the last lines kept for error reports. Memory stays bounded however long a line grows
// (a \r progress bar never ends one).

import { oneLine } from "../one-line.ts";
import { writeLogLine } from "./live-line.ts";

export const STDERR_TAIL_LINES = 20;
/** What is kept of one line; the rest is counted, and the line says how much was left out. */
export const STDERR_LINE_BYTES = 4096;

const NEWLINE = 10;
const decoder = new TextDecoder();

/** The last N lines of a provider's stderr. */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(private readonly limit = STDERR_TAIL_LINES) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }

  snapshot(): string[] {
    return [...this.lines];
  }
}

/** Gathers one line's bytes up to a limit, copying only what it keeps. */
class BoundedLine {
  #parts: Uint8Array[] = [];
  #kept = 0;
  #left = 0;

  constructor(private readonly limit: number) {}

  get empty(): boolean {
    return this.#kept === 0 && this.#left === 0;
  }

  add(bytes: Uint8Array): void {
    const room = Math.max(0, this.limit - this.#kept);
    const kept = Math.min(room, bytes.length);
    if (kept > 0) this.#parts.push(bytes.slice(0, kept));
    this.#kept += kept;
    this.#left += bytes.length - kept;
  }

  /** The line as text (a trailing \r dropped), and a note of what was left out; then resets. */
  take(): string {
    let text = decoder.decode(Buffer.concat(this.#parts));
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (this.#left > 0) text += ` … (${this.#left} more bytes not shown)`;
    this.#parts = [];
    this.#kept = 0;
    this.#left = 0;
    return text;
  }
}

/** Forwards `stream` to dstream's stderr as `<prefix> <line>`, keeping the last lines in `tail`. */
export async function forwardStderr(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  tail: StderrTail,
  options: { lineBytes?: number; write?: (line: string) => void } = {},
): Promise<void> {
  const line = new BoundedLine(options.lineBytes ?? STDERR_LINE_BYTES);
  const write = options.write ?? writeLogLine;
  const emit = () => {
    const text = line.take();
    tail.push(text);
    // A provider's \r or terminal escape must not rewrite the user's screen: escaped, tabs kept.
    write(`${prefix} ${oneLine(text, { keepTabs: true })}`);
  };
  try {
    for await (const chunk of stream) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        line.add(chunk.subarray(start, end));
        emit();
        start = end + 1;
      }
      line.add(chunk.subarray(start));
    }
  } catch {
    // A provider killed mid-write leaves a broken pipe; what was read is kept.
  }
  if (!line.empty) emit();
}
