// nats (JetStream) input and output in the compiled binary against a real nats-server, checked
// through its monitoring endpoint: what the stream holds, what the durable has acked and when.
import { beforeAll, describe, expect, test } from "bun:test";
import { dstreamBinary } from "../../helpers/binary.ts";
import type { ProviderProcess } from "./helpers.ts";
import {
  consumerDetail,
  createStreamWithClient,
  deleteStreamWithClient,
  publishWithClient,
  runNatsOutput,
  startNats,
  startNatsInput,
  streamDetail,
  uniqueName,
} from "./nats-helpers.ts";

let binary = "";
beforeAll(async () => {
  startNats();
  binary = await dstreamBinary();
}, 600_000);

const ready = '{"status":"ready","protocol":2}';

function event(sequence: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ data: { id: sequence }, metadata: { sequence, ...extra } });
}

interface InputLine {
  data?: unknown;
  metadata?: {
    stream: string;
    subject: string;
    sequence: number;
    redelivered: boolean;
    headers: Record<string, string>;
  };
  checkpoint?: { stream: string; delivered: [number, number][] };
}

function linesOf(provider: ProviderProcess): InputLine[] {
  return provider.stdout
    .split("\n")
    .filter((line) => line !== "" && line !== ready)
    .map((line) => JSON.parse(line) as InputLine);
}

const eventsOf = (provider: ProviderProcess) => linesOf(provider).filter((line) => line.metadata);

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`took too long: ${what}`);
    await Bun.sleep(50);
  }
}

/** Waits for `count` events and a checkpoint after the last of them. */
async function waitForEvents(provider: ProviderProcess, count: number): Promise<InputLine[]> {
  await waitFor(`${count} events (got ${eventsOf(provider).length})`, () => {
    const lines = linesOf(provider);
    return eventsOf(provider).length >= count && lines[lines.length - 1]?.checkpoint !== undefined;
  });
  return linesOf(provider);
}

const lastCheckpoint = (lines: InputLine[]) =>
  lines.filter((line) => line.checkpoint).pop()?.checkpoint;

async function stop(provider: ProviderProcess) {
  provider.child.kill("SIGTERM");
  return provider.finish(30_000);
}

async function createStream(stream: string, subject: string) {
  const result = await runNatsOutput(binary, { stream, subject }, [], "init");
  expect(JSON.parse(result.stdout).status).toBe("Success");
}

describe("nats output (compiled binary, real nats-server)", () => {
  test("init creates the stream; 5,000 events are stored, then the checkpoint is echoed", async () => {
    const stream = uniqueName("OUT");
    const subject = `${stream}.events`;
    const init = await runNatsOutput(binary, { stream, subject }, [], "init");
    expect(JSON.parse(init.stdout)).toEqual({
      status: "Success",
      message: `created stream "${stream}" for ${subject}`,
      resources: [{ type: "jetstream_stream", name: stream }],
    });
    expect((await streamDetail(stream))?.config?.subjects).toEqual([subject]);
    const events = Array.from({ length: 5000 }, (_, index) => event(index + 1));
    const result = await runNatsOutput(binary, { stream, subject }, [
      ...events.slice(0, 2500),
      '{"checkpoint":1}',
      ...events.slice(2500),
      '{"checkpoint":2}',
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // Echoes are cumulative: the first may be covered by the second when both are stored by then.
    expect([
      `${ready}\n{"checkpoint":1}\n{"checkpoint":2}\n`,
      `${ready}\n{"checkpoint":2}\n`,
    ]).toContain(result.stdout);
    const detail = await streamDetail(stream);
    expect(detail?.state.messages).toBe(5000);
    expect(detail?.state.last_seq).toBe(5000);
    const bytes = events.reduce((sum, line) => sum + line.length, 0);
    // Each stored message is its payload plus the subject and a small fixed overhead.
    expect(detail?.state.bytes).toBeGreaterThan(bytes);
    expect(
      JSON.parse((await runNatsOutput(binary, { stream, subject }, [], "status")).stdout).message,
    ).toBe(`stream "${stream}": 5000 messages, ${detail?.state.bytes} bytes`);
    // What was stored reads back byte for byte, in order.
    const input = startNatsInput(binary, { stream, durable: "check" });
    await waitForEvents(input, 5000);
    await stop(input);
    expect(eventsOf(input).map((line) => JSON.stringify(line.data))).toEqual(events);
    const destroyed = await runNatsOutput(binary, { stream, subject }, [], "destroy");
    expect(JSON.parse(destroyed.stdout).message).toBe(`deleted stream "${stream}"`);
    expect(await streamDetail(stream)).toBeUndefined();
  }, 120_000);

  test("destroy leaves a stream that init did not create, with its messages", async () => {
    const stream = uniqueName("THEIRS");
    const subject = `${stream}.events`;
    await createStreamWithClient(stream, [subject]);
    await publishWithClient(subject, ["1", "2", "3"]);
    // init finds it there: it does not take it over.
    const init = await runNatsOutput(binary, { stream, subject }, [], "init");
    expect(JSON.parse(init.stdout).message).toBe(`stream "${stream}" already exists`);
    const destroyed = await runNatsOutput(binary, { stream, subject }, [], "destroy");
    expect(destroyed.exitCode).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toMatchObject({
      status: "Success",
      message: `stream "${stream}" was not created by dstream init: left in place (delete it yourself if it should go)`,
    });
    expect((await streamDetail(stream))?.state.messages).toBe(3);
    await deleteStreamWithClient(stream);
  }, 60_000);

  test('subject_prefix + metadata.table, value = "data"', async () => {
    const stream = uniqueName("PREFIX");
    const init = await runNatsOutput(binary, { stream, subject_prefix: stream }, [], "init");
    expect(JSON.parse(init.stdout).message).toBe(`created stream "${stream}" for ${stream}.>`);
    const result = await runNatsOutput(binary, { stream, subject_prefix: stream, value: "data" }, [
      event(1, { table: "Orders" }),
      event(2, { table: "Customers" }),
      event(3, { table: "Orders" }),
    ]);
    expect(result.stderr).toBe("");
    const input = startNatsInput(binary, {
      stream,
      durable: "orders",
      filter_subject: `${stream}.Orders`,
    });
    await waitForEvents(input, 2);
    await stop(input);
    expect(eventsOf(input).map((line) => [line.metadata?.subject, line.data])).toEqual([
      [`${stream}.Orders`, { id: 1 }],
      [`${stream}.Orders`, { id: 3 }],
    ]);
  }, 60_000);

  test("servers unreachable: one line naming them, within connect_timeout_ms", async () => {
    const started = Date.now();
    const result = await runNatsOutput(
      binary,
      { servers: "nats://127.0.0.1:1", stream: "S", subject: "s", connect_timeout_ms: 2000 },
      [event(1)],
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "error: nats: cannot reach nats://127.0.0.1:1 (connection refused) within 2000 ms; check servers and that nats-server is running\n",
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  test("a stream that does not exist: one line naming it", async () => {
    const stream = uniqueName("MISSING");
    const result = await runNatsOutput(binary, { stream, subject: "x.y" }, [event(1)]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: nats: stream "${stream}" does not exist; create it (dstream init) or check stream\n`,
    );
  }, 30_000);

  test("an event over the server's max_payload names its sequence", async () => {
    const stream = uniqueName("LARGE");
    await createStream(stream, `${stream}.x`);
    const big = JSON.stringify({ data: "z".repeat(1_100_000), metadata: { sequence: 77 } });
    const result = await runNatsOutput(binary, { stream, subject: `${stream}.x` }, [
      event(76),
      big,
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: nats: event 77 is ${big.length} bytes, over the server's max_payload (1048576); raise max_payload in nats-server's config or make the event smaller\n`,
    );
    expect((await streamDetail(stream))?.state.messages).toBe(1);
  }, 30_000);

  test("a subject no stream holds names the subject", async () => {
    const stream = uniqueName("NOSUBJ");
    await createStream(stream, `${stream}.a`);
    const result = await runNatsOutput(binary, { stream, subject: `${stream}.b` }, [event(5)]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toStartWith(
      `error: nats: stream "${stream}" did not store event 5 on "${stream}.b" (`,
    );
  }, 30_000);
});

describe("nats input (compiled binary, real nats-server)", () => {
  test("messages are acked only when dstream commits a checkpoint naming them", async () => {
    const stream = uniqueName("ACKS");
    const subject = `${stream}.e`;
    await createStream(stream, subject);
    await runNatsOutput(
      binary,
      { stream, subject },
      Array.from({ length: 30 }, (_, index) => event(index + 1)),
    );
    const input = startNatsInput(binary, { stream, durable: "d" });
    const lines = await waitForEvents(input, 30);
    expect(lastCheckpoint(lines)).toEqual({ stream, delivered: [[1, 30]] });
    // Delivered, nothing acked: on receipt nothing goes upstream.
    await Bun.sleep(500);
    expect(await consumerDetail(stream, "d")).toMatchObject({
      num_ack_pending: 30,
      ack_floor: { stream_seq: 0 },
    });
    input.write(
      `${JSON.stringify({ command: "commit", checkpoint: { stream, delivered: [[1, 12]] } })}\n`,
    );
    await waitFor(
      "ack floor 12",
      async () => (await consumerDetail(stream, "d"))?.ack_floor.stream_seq === 12,
    );
    expect((await consumerDetail(stream, "d"))?.num_ack_pending).toBe(18);
    input.write(`${JSON.stringify({ command: "commit", checkpoint: lastCheckpoint(lines) })}\n`);
    await waitFor(
      "ack floor 30",
      async () => (await consumerDetail(stream, "d"))?.ack_floor.stream_seq === 30,
    );
    const result = await stop(input);
    expect(result.exitCode).toBe(0);
    const first = eventsOf(input)[0];
    expect(first?.metadata).toMatchObject({
      stream,
      subject,
      sequence: 1,
      redelivered: false,
      headers: {},
    });
  }, 60_000);

  test("a JSON value keeps its own text: every digit of its numbers, its newlines as spaces", async () => {
    const stream = uniqueName("EXACT");
    const subject = `${stream}.e`;
    await createStream(stream, subject);
    const exact = '{"id": 9007199254740993, "amount": 12345678901234567890.123456789}';
    await publishWithClient(subject, ['{\n  "pretty": [1,\n 2]\n}', exact]);
    const input = startNatsInput(binary, { stream, durable: "d" });
    await waitForEvents(input, 2);
    await stop(input);
    expect(input.stdout).toContain('{"data":{   "pretty": [1,  2] },"metadata":{');
    expect(input.stdout).toContain(`{"data":${exact},"metadata":{`);
  }, 60_000);

  test("a clean stop and a restart with the task's checkpoint deliver nothing twice", async () => {
    const stream = uniqueName("RESUME");
    const subject = `${stream}.e`;
    await createStream(stream, subject);
    await runNatsOutput(
      binary,
      { stream, subject },
      Array.from({ length: 20 }, (_, index) => event(index + 1)),
    );
    const config = { stream, durable: "d", ack_wait_ms: 1000 };
    const first = startNatsInput(binary, config);
    const lines = await waitForEvents(first, 20);
    // Only part of it was committed before the stop: 11-20 were never acked.
    first.write(
      `${JSON.stringify({ command: "commit", checkpoint: { stream, delivered: [[1, 10]] } })}\n`,
    );
    await waitFor(
      "ack floor 10",
      async () => (await consumerDetail(stream, "d"))?.ack_floor.stream_seq === 10,
    );
    await stop(first);
    await runNatsOutput(binary, { stream, subject }, [event(21), event(22)]);
    const second = startNatsInput(binary, config, lastCheckpoint(lines));
    await waitForEvents(second, 2);
    // The redeliveries of 11-20 come after ack_wait: they are acked and not passed on.
    await waitFor(
      "11-20 acked",
      async () => {
        const detail = await consumerDetail(stream, "d");
        return detail?.ack_floor.stream_seq === 20 && detail.num_ack_pending === 2;
      },
      20_000,
    );
    // 21 and 22 wait for a commit longer than ack_wait: their redeliveries are not passed on twice.
    await Bun.sleep(2500);
    await stop(second);
    expect(eventsOf(second).map((line) => line.metadata?.sequence)).toEqual([21, 22]);
  }, 60_000);

  test("kill -9 before a commit: the restart gets everything again (at least once)", async () => {
    const stream = uniqueName("CRASH");
    const subject = `${stream}.e`;
    await createStream(stream, subject);
    await runNatsOutput(
      binary,
      { stream, subject },
      Array.from({ length: 10 }, (_, index) => event(index + 1)),
    );
    const config = { stream, durable: "d", ack_wait_ms: 1000 };
    const first = startNatsInput(binary, config);
    await waitForEvents(first, 10);
    first.child.kill("SIGKILL");
    await first.child.exited;
    const second = startNatsInput(binary, config);
    await waitForEvents(second, 10);
    await stop(second);
    const events = eventsOf(second);
    expect(events.map((line) => line.metadata?.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.every((line) => line.metadata?.redelivered)).toBe(true);
  }, 60_000);

  test("a stream that does not exist: one line naming it", async () => {
    const stream = uniqueName("NOPE");
    const input = startNatsInput(binary, { stream, durable: "d" });
    const result = await input.finish(30_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: nats: stream "${stream}" does not exist; create it (dstream init) or check stream\n`,
    );
  }, 40_000);
});
