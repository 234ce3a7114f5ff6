// Waits bounded by progress, not by size: a request is abandoned when the registry sends no answer,
// or a body (upload or download) moves no byte, for the timeout; a slow transfer that moves goes on.

export type Waiting = "answer" | "upload" | "download";

/** Why a request was abandoned; the abort reason that fetch and body reads reject with. */
export class RegistryTimeout extends Error {
  constructor(
    readonly waiting: Waiting,
    readonly registry: string,
    readonly timeoutMs: number,
  ) {
    const seconds = formatSeconds(timeoutMs);
    super(
      waiting === "answer"
        ? `no answer from registry ${registry} within ${seconds}`
        : waiting === "upload"
          ? `registry ${registry} took no data for ${seconds}`
          : `no data from registry ${registry} for ${seconds}`,
    );
  }
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** One request's timer: armed while dstream waits on the registry, re-armed on every byte. */
export class ProgressTimeout {
  private timer: Timer | undefined;

  constructor(
    private readonly registry: string,
    private readonly timeoutMs: number,
    private readonly controller: AbortController,
  ) {}

  /** Starts (or restarts) the wait; `graceMs` lengthens this one wait. */
  arm(waiting: Waiting, graceMs = 0): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new RegistryTimeout(waiting, this.registry, this.timeoutMs)),
      this.timeoutMs + graceMs,
    );
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A request body that re-arms the timer for each chunk the connection takes, then waits for the
 * answer once the last byte is handed over. fetch pulls only as the socket drains, so this tracks
 * the upload itself, except for what the send buffers still hold at the end: that wait gets as long
 * again as the upload took, on top of the timeout.
 */
export function uploadBody(blob: Blob, timeout: ProgressTimeout): ReadableStream<Uint8Array> {
  const reader = blob.stream().getReader();
  let startedAt: number | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        startedAt ??= performance.now();
        const { done, value } = await reader.read();
        if (done) {
          timeout.arm("answer", performance.now() - startedAt);
          controller.close();
          return;
        }
        timeout.arm("upload");
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** The response with its body bounded by idle time: only the wait for the next chunk is timed. */
export function downloadBody(response: Response, timeout: ProgressTimeout): Response {
  // The answer is here; the body's clock starts when its reader asks for a chunk.
  timeout.disarm();
  if (!response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        timeout.arm("download");
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        } finally {
          timeout.disarm();
        }
      },
      cancel: (reason) => {
        timeout.disarm();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
