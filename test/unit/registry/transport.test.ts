import { describe, expect, test } from "bun:test";
import { registryBaseUrl } from "../../../src/registry/transport.ts";

describe("registryBaseUrl: HTTPS except loopback and DSTREAM_INSECURE_REGISTRIES", () => {
  test.each([
    ["ghcr.io", {}, "https://ghcr.io"],
    ["docker.io", {}, "https://registry-1.docker.io"],
    ["localhost:5000", {}, "http://localhost:5000"],
    ["localhost", {}, "http://localhost"],
    ["127.0.0.1:5000", {}, "http://127.0.0.1:5000"],
    ["127.8.9.10:443", {}, "http://127.8.9.10:443"],
    ["[::1]:5000", {}, "http://[::1]:5000"],
    ["registry.lan:5000", {}, "https://registry.lan:5000"],
    [
      "registry.lan:5000",
      { DSTREAM_INSECURE_REGISTRIES: "other.lan, registry.lan:5000" },
      "http://registry.lan:5000",
    ],
    ["registry.lan", { DSTREAM_INSECURE_REGISTRIES: "registry.lan:5000" }, "https://registry.lan"],
    ["127.evil.example", {}, "https://127.evil.example"],
  ])("%s %j -> %s", (registry, env, url) => {
    expect(registryBaseUrl(registry, env)).toBe(url);
  });
});
