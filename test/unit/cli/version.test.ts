// dstream version: what this build is, as text or JSON.
import { describe, expect, test } from "bun:test";
import packageJson from "../../../package.json" with { type: "json" };
import { runDstreamSource as dstream } from "../../helpers/binary.ts";

const platform = `${process.platform === "win32" ? "windows" : process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`;

describe("dstream version", () => {
  test("one line: version, commit, Bun and platform", async () => {
    expect(await dstream(["version"])).toEqual({
      exitCode: 0,
      // Run from source, the commit is "dev"; the build stamps the git commit (see the e2e test).
      stdout: `dstream ${packageJson.version} (commit dev, bun ${Bun.version}, ${platform})\n`,
      stderr: "",
      timedOut: false,
    });
  });

  test("--json", async () => {
    const result = await dstream(["version", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      version: packageJson.version,
      commit: "dev",
      bun: Bun.version,
      platform,
    });
  });

  test("reads no config: works in a folder without dstream.hcl", async () => {
    const result = await dstream(["version"], { cwd: "/" });
    expect(result.exitCode).toBe(0);
  });
});
