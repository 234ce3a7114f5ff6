// A v2 output's stdout: its checkpoint echoes are taken out, everything else passes through as it
// came. A native search for the prefix after a newline, so text lines cost nothing per line.
import { CHECKPOINT_PREFIX_BYTES, isCheckpointLine } from "../protocol/index.ts";

const PREFIX_AFTER_NEWLINE = Buffer.concat([Buffer.of(10), CHECKPOINT_PREFIX_BYTES]);
const decoder = new TextDecoder();

/** Whether `bytes[start..]`, shorter than the prefix, could still become it. */
function couldBePrefix(bytes: Uint8Array, start: number): boolean {
  const length = bytes.length - start;
  if (length >= CHECKPOINT_PREFIX_BYTES.length) return false;
  for (let index = 0; index < length; index++) {
    if (bytes[start + index] !== CHECKPOINT_PREFIX_BYTES[index]) return false;
  }
  return true;
}

function lineText(bytes: Uint8Array): string {
  const end = bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return decoder.decode(bytes.subarray(0, end));
}

export class EchoSplitter {
  /** Bytes from a line start that may be (or are) a checkpoint line still missing its newline. */
  private held: Uint8Array | undefined;
  private atLineStart = true;

  constructor(
    private readonly pass: (bytes: Uint8Array) => void,
    private readonly echo: (line: string) => void,
  ) {}

  push(chunk: Uint8Array): void {
    const data = Buffer.from(this.held ? Buffer.concat([this.held, chunk]) : chunk);
    this.held = undefined;
    let start = 0;
    let lineStart = this.atLineStart;
    while (start < data.length) {
      if (lineStart && isCheckpointLine(data, start)) {
        const newline = data.indexOf(10, start);
        if (newline === -1) {
          this.held = data.subarray(start);
          this.atLineStart = true;
          return;
        }
        this.echo(lineText(data.subarray(start, newline)));
        start = newline + 1;
        continue;
      }
      if (lineStart && couldBePrefix(data, start)) {
        this.held = data.subarray(start);
        this.atLineStart = true;
        return;
      }
      const found = data.indexOf(PREFIX_AFTER_NEWLINE, start);
      if (found !== -1) {
        this.pass(data.subarray(start, found + 1));
        start = found + 1;
        lineStart = true;
        continue;
      }
      // The tail after the last newline may be the start of a checkpoint line split across chunks.
      const last = data.lastIndexOf(10);
      if (last >= start && couldBePrefix(data, last + 1) && last + 1 < data.length) {
        this.pass(data.subarray(start, last + 1));
        this.held = data.subarray(last + 1);
        this.atLineStart = true;
        return;
      }
      this.pass(data.subarray(start));
      this.atLineStart = data[data.length - 1] === 10;
      return;
    }
    this.atLineStart = lineStart;
  }

  /** At the end of the output's stdout: a held line without newline is still judged. */
  end(): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    if (isCheckpointLine(held, 0)) this.echo(lineText(held));
    else this.pass(held);
  }
}
