// Provider logs and the live progress line share stderr on a terminal: a log line first clears the
// live line, then the live line is drawn again under it.

const CLEAR_LINE = "\r\u001b[2K";

let liveLine: string | undefined;

/** Writes one log line to stderr without tearing the live line. */
export function writeLogLine(text: string): void {
  if (liveLine === undefined) process.stderr.write(`${text}\n`);
  else process.stderr.write(`${CLEAR_LINE}${text}\n${liveLine}`);
}

/** Runs `write` (a logger's line) on a cleared line, then draws the live line again. */
export function besideLiveLine(write: () => void): void {
  if (liveLine === undefined) {
    write();
    return;
  }
  process.stderr.write(CLEAR_LINE);
  write();
  process.stderr.write(liveLine);
}

/** Draws (or, with undefined, clears for good) the live line at the bottom of the terminal. */
export function drawLiveLine(line: string | undefined): void {
  liveLine = line;
  process.stderr.write(`${CLEAR_LINE}${line ?? ""}`);
}
