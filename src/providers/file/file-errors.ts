// One-line messages for file system errors, naming the file and what to do.
import { errorCode } from "../../errors.ts";

const explanations: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "is a directory",
  ENOTDIR: "a parent of it is not a directory",
  EROFS: "read-only file system",
};

export function describeFileError(
  action: "read" | "write" | "open",
  path: string,
  error: unknown,
): string {
  const code = errorCode(error);
  const explanation = code ? explanations[code] : undefined;
  if (code && explanation) return `cannot ${action} "${path}": ${explanation} (${code})`;
  return `cannot ${action} "${path}": ${error instanceof Error ? error.message : String(error)}`;
}
