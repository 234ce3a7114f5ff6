#!/usr/bin/env node
// dstream's npm launcher: runs the binary of this machine's platform package with the same arguments.
"use strict";

const { spawn } = require("node:child_process");
const { readFileSync } = require("node:fs");
const { constants } = require("node:os");
const platforms = require("../platforms.json");

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function hostLibc() {
  if (process.platform !== "linux") return undefined;
  try {
    // Cheap (a process report costs tens of ms): glibc's ldd is a script naming "GNU C Library",
    // musl's runs musl's loader.
    const ldd = readFileSync("/usr/bin/ldd", "latin1");
    if (ldd.includes("musl")) return "musl";
    if (ldd.includes("GNU C Library")) return "glibc";
  } catch {}
  return process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl";
}

function installedBinary(platform) {
  try {
    return require.resolve(`${platform.npmPackage}/bin/${platform.packagedBinaryName}`);
  } catch {
    return undefined;
  }
}

function findBinary() {
  const override = process.env.DSTREAM_BINARY_PATH;
  if (override) return override;
  const libc = hostLibc();
  const host = `${process.platform}-${process.arch}${libc ? ` (${libc})` : ""}`;
  const supported = platforms.map((platform) => platform.name).join(", ");
  const match = platforms.find(
    (platform) =>
      platform.os === process.platform && platform.arch === process.arch && platform.libc === libc,
  );
  if (!match) {
    fail(
      `dstream has no binary for ${host} (it ships ${supported}); set DSTREAM_BINARY_PATH to a dstream binary built for this machine`,
    );
  }
  const binary = installedBinary(match);
  if (binary) return binary;
  const others = platforms.filter((platform) => installedBinary(platform));
  const found = others.map((platform) => platform.npmPackage).join(", ");
  const hint = others.length
    ? `found ${found} instead: node_modules was installed on another platform; reinstall dstream on this machine`
    : "it is an optional dependency: reinstall dstream without --omit=optional or --no-optional";
  fail(
    `the package ${match.npmPackage} with dstream's binary for ${host} is not installed; ${hint} (or set DSTREAM_BINARY_PATH)`,
  );
}

const binary = findBinary();
// Handlers go in before the spawn: a signal may arrive while the child starts.
let child;
let pendingSignal;
function forward(signal) {
  if (child) child.kill(signal);
  else pendingSignal = signal;
}
// A terminal's Ctrl-C already reaches dstream (same process group); forwarding it would count twice.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => forward(signal));
child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
if (pendingSignal) child.kill(pendingSignal);
child.on("error", (error) => fail(`cannot run ${binary}: ${error.message}`));
child.on("exit", (code, signal) => {
  if (signal) process.exit(128 + (constants.signals[signal] ?? 0));
  process.exit(code ?? 1);
});
