// cursor_field at work in one poll: which records go out at the boundary (none twice), and the
// highest value sent, which becomes the checkpoint.
import { type HttpPollPosition, MAX_SEEN } from "./position.ts";
import { type CursorValue, compareCursors, cursorValueOf, recordFingerprint } from "./records.ts";

/** What a pass does with records at the cursor boundary, and the position it keeps. */
export class CursorTracker {
  #warnedOrder = false;
  #warnedMissing = false;
  readonly #passStart: CursorValue | undefined;

  constructor(
    private readonly field: string,
    private readonly position: HttpPollPosition,
    private readonly log: (message: string) => void,
  ) {
    this.#passStart = position.cursor;
  }

  /** Whether to send `record`; moves the position when it does. */
  accept(record: unknown): boolean {
    const value = cursorValueOf(record, this.field);
    if (value === undefined) {
      if (!this.#warnedMissing) {
        this.log(
          `records without a string or number "${this.field}" (cursor_field) are sent but do not move the checkpoint`,
        );
        this.#warnedMissing = true;
      }
      return true;
    }
    const { position } = this;
    const fingerprint = recordFingerprint(record);
    if (position.cursor === undefined) return this.#advance(value, fingerprint);
    const order = compareCursors(value, position.cursor);
    if (order > 0) return this.#advance(value, fingerprint);
    if (order === 0) {
      const seen = position.seen ?? [];
      if (seen.includes(fingerprint)) return false; // sent before, at the boundary
      position.seen = [...seen, fingerprint].slice(-MAX_SEEN);
      return true;
    }
    // Older than where this pass started: the API sent what the cursor parameter excludes.
    if (this.#passStart !== undefined && compareCursors(value, this.#passStart) < 0) return false;
    if (!this.#warnedOrder) {
      this.log(
        `records are not in ascending "${this.field}" order: a restart in the middle of a poll may miss some (sort the API's answer by it)`,
      );
      this.#warnedOrder = true;
    }
    return true;
  }

  #advance(value: CursorValue, fingerprint: string): boolean {
    this.position.cursor = value;
    this.position.seen = [fingerprint];
    return true;
  }
}
