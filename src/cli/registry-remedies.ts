// registry names a remedy for some of its errors; the CLI words it with its own commands and flags.
import { DstreamError } from "../errors.ts";
import { RegistryError, type Remedy } from "../registry/index.ts";

function withHint(message: string, remedy: Remedy): string {
  switch (remedy.kind) {
    case "re-resolve": {
      const when = remedy.condition ? `${remedy.condition}, ` : "";
      return `${message}; ${when}run again with --upgrade (or dstream providers lock --upgrade) to re-resolve the tag`;
    }
    case "relock":
      return `${message} (fix it, or delete the file and run dstream providers lock)`;
    case "push-platform":
      return `${message}; push one with dstream providers push --platform ${remedy.platform}=<file>`;
    default:
      throw new Error(`unknown remedy ${JSON.stringify(remedy satisfies never)}`);
  }
}

/** A registry error with its remedy worded as a dstream command; anything else as it was. */
export function explainRemedy(error: unknown): unknown {
  if (!(error instanceof RegistryError)) return error;
  return new DstreamError(error.code, withHint(error.message, error.remedy), {
    cause: error,
    exitCode: error.exitCode,
    details: error.details,
  });
}
