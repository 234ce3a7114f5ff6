// http-poll reading 10,000 pages of 100 records from a local server, beside curl fetching the same
// pages over one connection (what parsing and the envelopes cost); the http output's requests/s
// and events/s with batch 1 and batch 1000, beside curl posting the same bodies.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchBinary } from "./binary.ts";
import { machineLine } from "./timing.ts";

const PAGES = Number(process.env.BENCH_HTTP_PAGES ?? 10_000);
const PER_PAGE = 100;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BATCH1_EVENTS = Number(process.env.BENCH_HTTP_SINGLE ?? 20_000);
const BATCH1000_EVENTS = Number(process.env.BENCH_HTTP_BATCHED ?? 200_000);

const encoder = new TextEncoder();

function record(id: number) {
  return {
    id,
    name: `customer ${id}`,
    email: `customer${id}@example.com`,
    updated_at: new Date(Date.UTC(2026, 0, 1) + id * 1000).toISOString(),
    amount: (id % 1000) / 10,
    tags: ["bench", id % 2 === 0 ? "even" : "odd"],
  };
}

function pageBody(page: number): Uint8Array {
  const items = Array.from({ length: PER_PAGE }, (_, index) =>
    record((page - 1) * PER_PAGE + index + 1),
  );
  return encoder.encode(JSON.stringify({ items }));
}

/** What http-poll cannot avoid, measured alone: parse each page, stringify each record's envelope. */
function parseAndEnvelopeMs(pages: Uint8Array[]): number {
  const decoder = new TextDecoder();
  const started = performance.now();
  let bytes = 0;
  pages.forEach((page, index) => {
    const { items } = JSON.parse(decoder.decode(page)) as { items: unknown[] };
    for (const [offset, data] of items.entries()) {
      const metadata = {
        url: "http://127.0.0.1/items",
        status: 200,
        page: index + 1,
        fetched_at: "2026-12-04T21:00:00.000Z",
        sequence: index * PER_PAGE + offset + 1,
      };
      bytes += JSON.stringify({ data, metadata }).length;
    }
  });
  if (bytes === 0) throw new Error("no envelopes");
  return performance.now() - started;
}

/** Runs a shell pipeline to its end; its last stdout line (a wc count) and the wall time. */
async function timed(
  script: string,
  env: Record<string, string>,
): Promise<{ ms: number; out: string }> {
  const started = performance.now();
  const child = Bun.spawn(["sh", "-c", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${script}: exit ${code}: ${err.trim()}`);
  return { ms, out: out.trim() };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const rate = (count: number, ms: number) => Math.round((count / ms) * 1000).toLocaleString("en-US");

export default async function httpBench(): Promise<string> {
  const binary = await buildBenchBinary();
  const folder = mkdtempSync(join(tmpdir(), "dstream-bench-http-"));
  const pages = Array.from({ length: PAGES }, (_, index) => pageBody(index + 1));
  let posted = 0;
  const api = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST") {
        posted += (await request.arrayBuffer()).byteLength > 0 ? 1 : 0;
        return new Response(null, { status: 204 });
      }
      const page = Number(url.searchParams.get("page"));
      const body = pages[page - 1];
      return body
        ? new Response(body, { headers: { "content-type": "application/json" } })
        : Response.json({ items: [] });
    },
  });
  try {
    const base = `http://127.0.0.1:${api.port}`;
    const pollEnvelope = join(folder, "poll.json");
    writeFileSync(
      pollEnvelope,
      `${JSON.stringify({ command: "run", protocol: 2, checkpoint: null, config: { endpoint: `${base}/items`, page_param: "page", records: "items", poll_interval: 0 } })}\n`,
    );
    const env = { DSTREAM_ROLE: "input", DSTREAM_TASK: "bench" };
    const pollScript = `${binary.path} __provider http-poll < ${pollEnvelope} | wc -l`;
    // curl reuses one connection across the globbed URLs, as http-poll does.
    const curlScript = `curl -sf "${base}/items?page=[1-${PAGES + 1}]" | wc -c`;
    const pollMs: number[] = [];
    const curlMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const curl = await timed(curlScript, {});
      curlMs.push(curl.ms);
      const polled = await timed(pollScript, env);
      // The ready line, the records, and the checkpoint lines.
      if (Number(polled.out) < PAGES * PER_PAGE + 1)
        throw new Error(`http-poll wrote ${polled.out} lines, expected ${PAGES * PER_PAGE}+`);
      pollMs.push(polled.ms);
    }
    const records = PAGES * PER_PAGE;
    const bytes = pages.reduce((sum, page) => sum + page.length, 0);
    const poll = median(pollMs);
    const curl = median(curlMs);
    const floor = parseAndEnvelopeMs(pages);

    const output = async (events: number, batch: number) => {
      const input = join(folder, `out-${batch}.jsonl`);
      const lines: string[] = [
        JSON.stringify({
          command: "run",
          protocol: 2,
          checkpoint: null,
          config: { url: `${base}/in`, batch },
        }),
      ];
      for (let sequence = 1; sequence <= events; sequence++) {
        lines.push(
          JSON.stringify({
            data: record(sequence),
            metadata: {
              url: `${base}/items?page=1`,
              status: 200,
              page: 1,
              fetched_at: "2026-12-04T21:00:00.000Z",
              sequence,
            },
          }),
        );
      }
      writeFileSync(input, `${lines.join("\n")}\n`);
      const body = join(folder, `body-${batch}.ndjson`);
      writeFileSync(body, `${lines.slice(1, batch + 1).join("\n")}\n`);
      const requests = Math.ceil(events / batch);
      const sendScript = `${binary.path} __provider http < ${input} | wc -l`;
      const curlPost = `curl -sf -o /dev/null -X POST -H 'content-type: application/x-ndjson' --data-binary @${body} "${base}/in?n=[1-${requests}]" && echo ok`;
      const sendMs: number[] = [];
      const curlPostMs: number[] = [];
      let sent = 0;
      for (let run = 0; run < RUNS; run++) {
        curlPostMs.push((await timed(curlPost, {})).ms);
        posted = 0;
        sendMs.push(
          (await timed(sendScript, { DSTREAM_ROLE: "output", DSTREAM_TASK: "bench" })).ms,
        );
        // Requests hold what stdin had ready, up to `batch`: at least this many.
        if (posted < requests)
          throw new Error(`http output made ${posted} requests, expected ${requests} or more`);
        sent = posted;
      }
      return { events, batch, requests, sent, ms: median(sendMs), curlMs: median(curlPostMs) };
    };
    const single = await output(BATCH1_EVENTS, 1);
    const batched = await output(BATCH1000_EVENTS, 1000);
    const outputRow = (o: Awaited<ReturnType<typeof output>>) =>
      `| batch ${o.batch}: ${o.events.toLocaleString("en-US")} events in ${o.sent.toLocaleString("en-US")} requests | ${(o.ms / 1000).toFixed(2)} s | ${rate(o.sent, o.ms)} | ${rate(o.events, o.ms)} | ${o.requests.toLocaleString("en-US")} requests in ${(o.curlMs / 1000).toFixed(2)} s, ${rate(o.requests, o.curlMs)} req/s | ${((o.curlMs / o.ms) * 100).toFixed(0)}% |`;
    return [
      "## HTTP: http-poll and http",
      "",
      `Compiled binary against a Bun.serve server in the benchmark process on loopback; medians of ${RUNS} runs, interleaved with the baseline.`,
      machineLine(),
      "",
      `http-poll reads ${PAGES.toLocaleString("en-US")} pages of ${PER_PAGE} records (${(bytes / 1e6).toFixed(0)} MB of JSON, page_param pagination, poll_interval 0)`,
      "into `wc -l`; the baseline is curl fetching the same pages over one kept-alive connection (URL globbing) into `wc -c`:",
      "the difference is what parsing each page and writing each record as an envelope costs; the last row is that work alone.",
      "",
      "| reader | time | pages/s | records/s | vs curl |",
      "|---|---:|---:|---:|---:|",
      `| curl (baseline) | ${(curl / 1000).toFixed(2)} s | ${rate(PAGES, curl)} | ${rate(records, curl)} | 100% |`,
      `| http-poll | ${(poll / 1000).toFixed(2)} s | ${rate(PAGES, poll)} | ${rate(records, poll)} | ${((curl / poll) * 100).toFixed(0)}% |`,
      `| JSON.parse + JSON.stringify of each envelope in one process, no I/O (the work's floor) | ${(floor / 1000).toFixed(2)} s | ${rate(PAGES, floor)} | ${rate(records, floor)} | ${((curl / floor) * 100).toFixed(0)}% |`,
      "",
      "The http output sends NDJSON envelopes read from a file on stdin, one request at a time, waiting for each 204;",
      "a request holds what stdin had ready, up to `batch` events, so there can be more requests than events / batch.",
      "The baseline is curl POSTing full bodies (`batch` events each) over one connection: the same events in the fewest requests.",
      "",
      "| http output | time | requests/s | events/s | curl, same bodies | speed vs curl |",
      "|---|---:|---:|---:|---:|---:|",
      outputRow(single),
      outputRow(batched),
    ].join("\n");
  } finally {
    api.stop(true);
    rmSync(folder, { recursive: true, force: true });
    binary.remove();
  }
}
