// OCI reference syntax: host[:port]/nested/repository:tag@sha256:digest, and why a bad one is bad.
import { describe, expect, test } from "bun:test";
import { parseReference } from "../../../src/oci/reference.ts";

const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
const longDigest = `sha512:${"0123456789abcdef".repeat(8)}`;

describe("parseReference", () => {
  test.each([
    [
      "ghcr.io/acme/pg-cdc:v1.2.0",
      { registry: "ghcr.io", repository: "acme/pg-cdc", tag: "v1.2.0" },
    ],
    ["localhost:5000/counter:1", { registry: "localhost:5000", repository: "counter", tag: "1" }],
    ["localhost/counter:latest", { registry: "localhost", repository: "counter", tag: "latest" }],
    [
      "registry.example.com:8443/team/sub/deep/provider:v2",
      { registry: "registry.example.com:8443", repository: "team/sub/deep/provider", tag: "v2" },
    ],
    ["127.0.0.1:5000/a/b:t", { registry: "127.0.0.1:5000", repository: "a/b", tag: "t" }],
    ["localhost:65535/a:t", { registry: "localhost:65535", repository: "a", tag: "t" }],
    ["[::1]:5000/a:t", { registry: "[::1]:5000", repository: "a", tag: "t" }],
    [`ghcr.io/acme/in@${digest}`, { registry: "ghcr.io", repository: "acme/in", digest }],
    [
      `ghcr.io/acme/in:v1@${digest}`,
      { registry: "ghcr.io", repository: "acme/in", tag: "v1", digest },
    ],
    [
      `ghcr.io/acme/in@${longDigest}`,
      { registry: "ghcr.io", repository: "acme/in", digest: longDigest },
    ],
    ["acme/in:v1", { registry: "docker.io", repository: "acme/in", tag: "v1" }],
    ["counter:v1", { registry: "docker.io", repository: "library/counter", tag: "v1" }],
    ["docker.io/alpine:3", { registry: "docker.io", repository: "library/alpine", tag: "3" }],
    ["index.docker.io/alpine:3", { registry: "docker.io", repository: "library/alpine", tag: "3" }],
    ["index.docker.io/acme/in:v1", { registry: "docker.io", repository: "acme/in", tag: "v1" }],
    [
      "ghcr.io/a.b/c_d/e__f/g-h/i--j:V_1.0-rc.1",
      { registry: "ghcr.io", repository: "a.b/c_d/e__f/g-h/i--j", tag: "V_1.0-rc.1" },
    ],
    [
      `ghcr.io/a:${"t".repeat(128)}`,
      { registry: "ghcr.io", repository: "a", tag: "t".repeat(128) },
    ],
  ])("%s", (text, expected) => {
    expect(parseReference(text)).toEqual({ ...expected, original: text });
  });

  const bad = (text: string) => `invalid OCI reference "${text}": `;
  test.each([
    ["", "it is empty or has surrounding spaces"],
    [" ghcr.io/a:v1", "it is empty or has surrounding spaces"],
    ["ghcr.io/a:v1\n", "it is empty or has surrounding spaces"],
    ["ghcr.io/acme/in", "add a tag (:v1.2.0) or a digest (@sha256:...)"],
    ["localhost:5000/in", "add a tag (:v1.2.0) or a digest (@sha256:...)"],
    [
      "ghcr.io/acme/in:",
      "a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
    ],
    [
      "ghcr.io/acme/in:.v1",
      "a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
    ],
    // A slash ends the tag, so "in:v" is read as a repository component.
    [
      "ghcr.io/acme/in:v/1",
      `repository component "in:v" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
    [
      `ghcr.io/a:${"t".repeat(129)}`,
      "a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
    ],
    [
      "ghcr.io/acme/in@sha256:abc",
      "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
    ],
    [
      `ghcr.io/acme/in@${digest.toUpperCase()}`,
      "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
    ],
    [
      `ghcr.io/acme/in@sha512:${"0".repeat(64)}`,
      "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
    ],
    [
      `ghcr.io/acme/in@md5:${"0".repeat(32)}`,
      "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
    ],
    [
      "ghcr.io/Acme/in:v1",
      `repository component "Acme" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
    [
      "ghcr.io/acme/-in:v1",
      `repository component "-in" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
    [
      "ghcr.io/acme/in___x:v1",
      `repository component "in___x" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
    ],
    ["ghcr.io//in:v1", "the repository name is missing or has an empty path component"],
    ["ghcr.io/acme/:v1", "the repository name is missing or has an empty path component"],
    ["bad_host.io/acme/in:v1", `"bad_host.io" is not a valid registry host[:port]`],
    ["host.io:port/acme/in:v1", `"host.io:port" is not a valid registry host[:port]`],
    ["-host.io/acme/in:v1", `"-host.io" is not a valid registry host[:port]`],
    [
      "localhost:99999/acme/in:v1",
      `the port 99999 of "localhost:99999" is not between 1 and 65535`,
    ],
    [
      "registry.lan:65536/in:v1",
      `the port 65536 of "registry.lan:65536" is not between 1 and 65535`,
    ],
    ["[::1]:0/in:v1", `the port 0 of "[::1]:0" is not between 1 and 65535`],
    [`ghcr.io/${"a".repeat(256)}:v1`, "the repository name is longer than 255 characters"],
  ])("%j is rejected", (text, reason) => {
    expect(parseReference(text)).toEqual({ error: bad(text) + reason });
  });
});
