// Flag values with units: sizes ("8MiB", "512k", "1048576") and durations ("10s", "500ms", "2m").
import { DstreamError } from "../errors.ts";

const sizeUnits: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Far beyond any buffer or line a machine holds; past it a size is a typo, not a wish. */
const MAX_SIZE_BYTES = 1024 ** 4;

export function parseSize(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = sizeUnits[match?.[2]?.toLowerCase() ?? "x"];
  if (!match || unit === undefined) {
    throw new DstreamError(
      "USAGE",
      `${flag}: "${text}" is not a size (e.g. 8MiB, 512KiB, 1048576)`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1) throw new DstreamError("USAGE", `${flag}: must be at least 1 byte`);
  if (bytes > MAX_SIZE_BYTES) {
    throw new DstreamError("USAGE", `${flag}: "${text}" is too large (at most 1TiB)`);
  }
  return bytes;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, "": 1000, m: 60_000 };
const MAX_DURATION_MS = 24 * 24 * 3_600_000;

export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|)$/i.exec(text.trim());
  const unit = durationUnits[match?.[2]?.toLowerCase() ?? "x"];
  if (!match || unit === undefined) {
    throw new DstreamError("USAGE", `${flag}: "${text}" is not a duration (e.g. 10s, 500ms, 2m)`);
  }
  const ms = Math.round(Number(match[1]) * unit);
  // A timeout of 0 would fail every wait it bounds at once.
  if (ms < 1) throw new DstreamError("USAGE", `${flag}: must be at least 1 ms`);
  // Timers take at most 2^31-1 ms; a longer one would fire at once.
  if (ms > MAX_DURATION_MS) throw new DstreamError("USAGE", `${flag}: must be at most 24 days`);
  return ms;
}
