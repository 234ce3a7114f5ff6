// The nats output's publishes awaiting their JetStream ack, in order. A server never acks on a new
// connection what it got on the old one, so once reconnected (and the stream answers again) every
// publish not yet acked is sent again, in order: an outage shorter than connect_timeout_ms loses
// nothing (what was stored but not acked before it is stored twice: at least once).
import { type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type ConnectionWatch, errorText, watchConnection } from "./connection.ts";
import type { NatsOutputConfig } from "./schema.ts";

interface Publish {
  subject: string;
  payload: Uint8Array;
  /** "event 42", for messages. */
  describe: () => string;
}

export class Publisher {
  readonly #unacked = new Map<number, Publish>();
  #nextId = 0;
  /** Bumped on every reconnect: what an attempt on an older connection reports is ignored. */
  #epoch = 0;
  /** False from a disconnect until the stream answers again: publishes wait meanwhile. */
  #ready = true;
  #recovering = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly watch: ConnectionWatch;
  private readonly stream: string;
  private readonly timeoutMs: number;

  constructor(connection: NatsConnection, jsm: JetStreamManager, config: NatsOutputConfig) {
    this.jsm = jsm;
    this.js = jetstream(connection);
    this.stream = config.stream;
    this.timeoutMs = config.connect_timeout_ms;
    this.watch = watchConnection(connection, config, {
      onDisconnect: () => {
        this.#ready = false;
      },
      onReconnect: () => void this.#resendWhenReady(),
      onLost: () => this.#notify(),
    });
  }

  get size(): number {
    return this.#unacked.size;
  }

  /** Throws the first failure: a publish the stream refused, or the connection lost for good. */
  check(): void {
    const failure = this.#failure ?? this.watch.lost;
    if (failure) throw failure;
  }

  publish(subject: string, payload: Uint8Array, describe: () => string): void {
    const id = this.#nextId++;
    this.#unacked.set(id, { subject, payload, describe });
    // While disconnected it waits for the reconnect, which sends everything unacked.
    if (this.#ready) this.#send(id);
  }

  /**
   * After a reconnect: waits for the stream to answer (a restarted server takes a moment to
   * recover its streams), then sends everything not yet acked again, in order.
   */
  async #resendWhenReady(): Promise<void> {
    if (this.#recovering) return;
    this.#recovering = true;
    try {
      await this.#waitForStream();
    } finally {
      this.#recovering = false;
    }
  }

  async #waitForStream(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (this.watch.lost || this.watch.connected === false) return;
      try {
        await this.jsm.streams.info(this.stream);
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          this.#failure ??= new Error(
            `nats: stream "${this.stream}" did not answer within ${this.timeoutMs} ms of reconnecting (${errorText(error)})`,
            { cause: error },
          );
          this.#notify();
          return;
        }
        await Bun.sleep(100);
      }
    }
    this.#ready = true;
    this.#epoch++;
    for (const id of this.#unacked.keys()) this.#send(id);
  }

  /** Wakes the waiters: an ack, a failure or the lost connection. */
  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits until at most `count` publishes await their ack; throws the first failure. */
  async waitUntilAtMost(count: number): Promise<void> {
    for (;;) {
      this.check();
      if (this.#unacked.size <= count) return;
      await new Promise<void>((resolve) => {
        const previous = this.#wake;
        this.#wake = () => {
          previous?.();
          resolve();
        };
      });
    }
  }

  #refused(publish: Publish, error: unknown): void {
    this.#failure ??= new Error(
      `nats: stream "${this.stream}" did not store ${publish.describe()} on "${publish.subject}" (${errorText(error)}); check that the stream's subjects include it`,
      { cause: error },
    );
    this.#notify();
  }

  /** Nobody took a publish: a subject no stream holds while the stream answers, else JetStream is away. */
  async #noResponders(publish: Publish, error: Error): Promise<void> {
    try {
      await this.jsm.streams.info(this.stream);
    } catch {
      this.#ready = false;
      void this.#resendWhenReady();
      return;
    }
    this.#refused(publish, error);
  }

  #send(id: number): void {
    const publish = this.#unacked.get(id);
    if (!publish) return;
    const epoch = this.#epoch;
    this.js.publish(publish.subject, publish.payload, { timeout: this.timeoutMs }).then(
      (ack) => {
        // An ack from any attempt stores it; the other attempt's answer then finds nothing.
        if (!this.#unacked.delete(id)) return;
        // Checked on the ack rather than sent as an expectation header stored with every message.
        if (ack.stream !== this.stream) {
          this.#failure ??= new Error(
            `nats: ${publish.describe()} on "${publish.subject}" was stored by stream "${ack.stream}", not "${this.stream}"; check stream and the streams' subjects`,
          );
        }
        this.#notify();
      },
      (error: unknown) => {
        if (!this.#unacked.has(id) || epoch !== this.#epoch) return;
        if (this.watch.lost) return this.#notify();
        // Lost with the connection: the reconnect sends it again.
        if (!this.#ready) return;
        // No JetStream behind the server for now (it is stopping or still recovering its
        // streams): hold everything and send it again once the stream answers.
        if (error instanceof Error && error.name === "JetStreamNotEnabled") {
          void this.#noResponders(publish, error);
          return;
        }
        this.#refused(publish, error);
      },
    );
  }
}
