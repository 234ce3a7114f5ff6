// --stats-json checked before a run starts: a path the run's counters could never be written to
// would otherwise fail the run only after all its work was done.
import { closeSync, constants, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DstreamError, errorCode, messageOf } from "../errors.ts";

/**
 * The --stats-json path, or undefined when not given; a usage error when it cannot be written.
 * The check opens the file for writing as the run will (without emptying it); one it had to
 * create is removed again.
 */
export function checkStatsJsonPath(
  value: string | undefined,
  cwd = process.cwd(),
): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") {
    throw new DstreamError(
      "USAGE",
      "--stats-json is empty: give the file to write the counters to",
    );
  }
  const path = resolve(cwd, value);
  let existed = true;
  try {
    if (statSync(path).isDirectory()) throw refuse(value, "is a folder, not a file");
  } catch (error) {
    if (error instanceof DstreamError) throw error;
    if (errorCode(error) !== "ENOENT") throw refuse(value, reasonOf(error), error);
    existed = false;
  }
  try {
    const flags = existed
      ? constants.O_WRONLY
      : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    closeSync(openSync(path, flags));
  } catch (error) {
    if (errorCode(error) === "ENOENT" && !isFolder(dirname(path))) {
      throw refuse(value, `the folder ${dirname(value)} does not exist`, error);
    }
    throw refuse(value, reasonOf(error), error);
  }
  if (!existed) unlinkSync(path);
  return value;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function refuse(value: string, reason: string, cause?: unknown): DstreamError {
  return new DstreamError("USAGE", `--stats-json ${value}: ${reason}`, { cause });
}

function reasonOf(error: unknown): string {
  switch (errorCode(error)) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    default:
      return `cannot be written: ${messageOf(error)}`;
  }
}
