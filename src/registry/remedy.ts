// Errors whose fix is a dstream command: registry names the remedy, and the CLI words it with its
// own commands and flags, so this layer never names a flag.
import { DstreamError, type DstreamErrorOptions, type ErrorCode } from "../errors.ts";

export type Remedy =
  /** Re-resolving the tag may help; `condition` says when ("if the tag has one now"). */
  | { kind: "re-resolve"; condition?: string }
  /** The lock file is damaged: fix it, or write it anew. */
  | { kind: "relock" }
  /** The artifact has no binary for `platform`: push one. */
  | { kind: "push-platform"; platform: string };

export class RegistryError extends DstreamError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly remedy: Remedy,
    options: DstreamErrorOptions = {},
  ) {
    super(code, message, options);
  }
}
