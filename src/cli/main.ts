// dstream's entry point: run the CLI and hand its exit code to the process.
import { runCli } from "./run-cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
