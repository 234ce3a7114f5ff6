// dstream's entry point: run the CLI and hand its exit code to the process.
import { reportStdoutError, runCli } from "./run-cli.ts";

let commandExitCode: number | undefined;
let stdoutExitCode = 0;
let stdoutFailed = false;
const settle = () => {
  // A command's own failure wins; a failed stdout only turns success into failure.
  if (commandExitCode !== undefined) process.exitCode = commandExitCode || stdoutExitCode;
};
// A failed write to stdout arrives as an event, after the write call returned, outside runCli.
process.stdout.on("error", (error) => {
  if (stdoutFailed) return; // every later write fails the same way
  stdoutFailed = true;
  stdoutExitCode = reportStdoutError(error);
  settle();
});
// A closed stderr (a terminal gone after SIGHUP, `2>&-`) must not crash a run that is draining
// its data: logs then have nowhere to go, and that is all.
process.stderr.on("error", () => {});
commandExitCode = await runCli(process.argv.slice(2));
settle();
