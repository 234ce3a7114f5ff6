import { describe, expect, test } from "bun:test";
import { parseChallenge } from "../../../../src/registry/client/auth.ts";

describe("parseChallenge", () => {
  test.each([
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/x:pull"',
      {
        scheme: "bearer",
        params: {
          realm: "https://ghcr.io/token",
          service: "ghcr.io",
          scope: "repository:acme/x:pull",
        },
      },
    ],
    [
      'Bearer realm="https://auth.docker.io/token", service="registry.docker.io", scope="repository:library/a:pull,push"',
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/a:pull,push",
        },
      },
    ],
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    ["Basic realm=plain", { scheme: "basic", params: { realm: "plain" } }],
    [
      'Bearer realm="a \\"quoted\\" realm"',
      { scheme: "bearer", params: { realm: 'a "quoted" realm' } },
    ],
  ])("%s", (header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });

  test("an empty header has no challenge", () => {
    expect(parseChallenge("")).toBeUndefined();
  });
});
