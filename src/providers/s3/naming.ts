// Object keys: prefix, optional dt= folder, the first event's sequence, the format's extension.
import type { S3OutputConfig } from "./schema.ts";
import { NumberText } from "./types.ts";

/** A key's last part from the first event's sequence: zero-padded so keys sort in stream order. */
export function objectName(sequence: unknown): string | undefined {
  if (typeof sequence === "number" && Number.isSafeInteger(sequence) && sequence >= 0)
    return String(sequence).padStart(20, "0");
  if (sequence instanceof NumberText && /^\d+$/.test(sequence.text))
    return sequence.text.padStart(20, "0");
  if (typeof sequence === "string" && /^[A-Za-z0-9._-]{1,200}$/.test(sequence)) return sequence;
  return undefined;
}

export function extension(config: S3OutputConfig): string {
  if (config.format === "parquet") return ".parquet";
  const compression = config.compression ?? "gzip";
  return compression === "gzip" ? ".jsonl.gz" : compression === "zstd" ? ".jsonl.zst" : ".jsonl";
}

/** UTC day of a time value (RFC 3339 text or epoch milliseconds), as 2006-01-02. */
export function utcDay(value: unknown): string | undefined {
  const ms =
    typeof value === "number"
      ? value
      : value instanceof NumberText
        ? Number(value.text)
        : typeof value === "string"
          ? Date.parse(value)
          : Number.NaN;
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 10);
}
