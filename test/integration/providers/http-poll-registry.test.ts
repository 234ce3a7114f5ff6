// http-poll against a real paginated API nobody here wrote: the CNCF distribution registry, whose
// /v2/_catalog and /v2/<name>/tags/list page with RFC 8288 Link headers; checked against curl.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  putManifest,
  type RunningRegistry,
  startRegistry,
  uploadBlob,
} from "../../helpers/registry.ts";
import { poll } from "./http-helpers.ts";

let registry: RunningRegistry;
const repositories = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];
const tags = ["v1", "v2", "v3", "v4", "v5"];

async function pushRepository(name: string, tagNames: string[]): Promise<void> {
  const config = new TextEncoder().encode("{}");
  const digest = await uploadBlob(registry.host, name, config);
  for (const tag of tagNames) {
    await putManifest(registry.host, name, tag, {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest,
        size: config.length,
      },
      layers: [],
    });
  }
}

/** What curl reads in one page as large as the whole list: the reference, from a client we did not write. */
function curlJson(url: string): unknown {
  const result = Bun.spawnSync(["curl", "-sf", url]);
  if (result.exitCode !== 0) throw new Error(`curl ${url} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.toString());
}

beforeAll(async () => {
  registry = await startRegistry();
  for (const name of repositories) await pushRepository(name, name === "charlie" ? tags : ["v1"]);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
});

test("the catalog, two repositories a page, follows Link rel=next to the end: every name once, as curl sees them", async () => {
  const result = await poll({
    endpoint: `http://${registry.host}/v2/_catalog?n=2`,
    records: "repositories",
  });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  const reference = curlJson(`http://${registry.host}/v2/_catalog?n=1000`) as {
    repositories: string[];
  };
  expect(result.events.map((event) => event.data)).toEqual(reference.repositories);
  expect(reference.repositories).toEqual(repositories);
  expect(result.events.map((event) => event.metadata.page)).toEqual([1, 1, 2, 2, 3, 3, 4]);
  expect(result.events.map((event) => event.metadata.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(result.events[2]?.metadata.url).toBe(`http://${registry.host}/v2/_catalog?last=bravo&n=2`);
  expect(result.events[0]?.metadata.status).toBe(200);
  expect(result.checkpoints.at(-1)).toEqual({ sequence: 7 });
});

test("a tag list pages the same way", async () => {
  const result = await poll({
    endpoint: `http://${registry.host}/v2/charlie/tags/list`,
    query: { n: "2" },
    records: "tags",
  });
  expect(result.exitCode).toBe(0);
  const reference = curlJson(`http://${registry.host}/v2/charlie/tags/list`) as { tags: string[] };
  expect(result.events.map((event) => event.data)).toEqual(reference.tags);
  expect([...reference.tags].sort()).toEqual(tags);
});

test("resumes in the middle of the catalog from a page checkpoint: the rest, nothing twice", async () => {
  const first = await poll({
    endpoint: `http://${registry.host}/v2/_catalog?n=2`,
    records: "repositories",
  });
  const resumeFrom = {
    sequence: 3,
    page: { url: `http://${registry.host}/v2/_catalog?last=bravo&n=2`, number: 2, skip: 1 },
  };
  const rest = await poll(
    { endpoint: `http://${registry.host}/v2/_catalog?n=2`, records: "repositories" },
    resumeFrom,
  );
  expect(rest.exitCode).toBe(0);
  expect(rest.events.map((event) => event.data)).toEqual(repositories.slice(3));
  expect(rest.events.map((event) => event.metadata.sequence)).toEqual([4, 5, 6, 7]);
  expect(first.events.length).toBe(repositories.length);
});

test("a repository that does not exist fails with one line: method, URL, status and the body's start", async () => {
  const result = await poll({
    endpoint: `http://${registry.host}/v2/nothing-here/tags/list`,
    records: "tags",
  });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toBe(
    `error: GET http://${registry.host}/v2/nothing-here/tags/list: 404 Not Found: {"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"nothing-here"}}]}\n`,
  );
});
