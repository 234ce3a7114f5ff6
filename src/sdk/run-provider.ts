// Runs one provider definition over protocol v1 or v2 (as dstream's envelope asks): command
// envelope, config, handshake, data, checkpoints and commits, stop.
import { errorCode } from "../errors.ts";
import { type LifecycleCommand, PROTOCOL_VERSION, providerEnv } from "../protocol/index.ts";
import { readCommits } from "./commits.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { pumpInput } from "./input.ts";
import { runLifecycle } from "./lifecycle.ts";
import { acknowledge, pumpOutput } from "./output.ts";
import { openStdin, ProtocolError, type StdinSession } from "./stdin.ts";
import { StdoutWriter } from "./stdout-writer.ts";
import { listenForStop, type StopSignal } from "./stop-signal.ts";
import type { OutputSink, ProviderContext, ProviderDefinition } from "./types.ts";

/** Thrown by an output's open(): the message becomes the handshake error. */
class OpenError extends Error {
  override readonly name = "OpenError";
}

function logLine(message: string): void {
  process.stderr.write(`${message}\n`);
}

function describeFailure(error: unknown): string {
  const code = errorCode(error);
  if (code === "EPIPE") return "stdout was closed by its reader (EPIPE)";
  return error instanceof Error ? error.message : String(error);
}

async function sendLine(stdout: StdoutWriter, value: unknown): Promise<void> {
  await stdout.write(`${JSON.stringify(value)}\n`);
  await stdout.flush();
}

async function serveCommand(
  definition: ProviderDefinition,
  session: StdinSession,
  stdout: StdoutWriter,
  stop: StopSignal,
): Promise<number> {
  const { command } = session;
  const lifecycle = command.command === "run" ? undefined : (command.command as LifecycleCommand);
  let config: unknown;
  try {
    config = parseConfig(definition.schema, command.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logLine(`error: invalid config: ${error.message}`);
    const line = lifecycle
      ? { status: "Failed", message: error.message, resources: [] }
      : { status: "error", message: error.message };
    await sendLine(stdout, line);
    return 1;
  }
  const protocol = (command.protocol ?? 1) >= PROTOCOL_VERSION ? 2 : 1;
  const context: ProviderContext<unknown> = {
    config,
    task: process.env[providerEnv.task] ?? "",
    role: definition.role,
    signal: stop.signal,
    sleep: stop.sleep,
    log: logLine,
    stdout,
    protocol,
    checkpoint: definition.role === "input" ? (command.checkpoint ?? null) : null,
  };
  const ready = protocol === 2 ? { status: "ready", protocol } : { status: "ready" };
  if (lifecycle) {
    session.release();
    const result = await runLifecycle(lifecycle, definition, context);
    await sendLine(stdout, result);
    return result.status === "Success" ? 0 : 1;
  }
  if (definition.role === "input") {
    if (protocol === 1) session.release();
    await sendLine(stdout, ready);
    const commits =
      protocol === 2
        ? readCommits(
            session.data({ reuse: false }),
            definition.onCommit && ((checkpoint) => definition.onCommit?.(checkpoint, context)),
            () => stop.stop(),
          )
        : undefined;
    await pumpInput(definition.run(config, context), context, {
      ...(protocol === 2 ? { checkpoints: definition.checkpointEvery ?? {} } : {}),
    });
    if (commits?.failure !== undefined) throw commits.failure;
    return 0;
  }
  // v2: ready at once, before open() connects anywhere, so dstream knows the protocol in time; a
  // failed open() is then an error line on stderr and exit 1 (v1: the handshake error).
  if (protocol === 2) await sendLine(stdout, ready);
  let sink: OutputSink<unknown> = definition;
  try {
    sink = (await definition.open?.(context)) ?? definition;
  } catch (error) {
    if (protocol === 2) throw error;
    throw new OpenError(describeFailure(error), { cause: error });
  }
  if (protocol === 1) await sendLine(stdout, ready);
  // close() runs even after a failed write (to fsync what was written); the first error wins.
  let failure: unknown;
  let unacknowledged: Uint8Array | undefined;
  try {
    // writeRaw is done with a chunk when it returns: it may be handed views into one read buffer.
    const data = session.data({ reuse: sink.writeRaw !== undefined });
    const pumped = await pumpOutput({
      sink,
      limits: definition.batch,
      data,
      context,
      checkpoints: protocol === 2,
    });
    unacknowledged = pumped.unacknowledged;
  } catch (error) {
    failure = error;
  }
  try {
    if (sink.close) await sink.close(context);
    else if (unacknowledged && failure === undefined) await sink.flush?.(context);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  // Everything is durable now: the last checkpoint is acknowledged.
  if (unacknowledged) await acknowledge(unacknowledged, context);
  await stdout.flush();
  return 0;
}

/** Runs the provider in this process and returns its exit code: 0 done, 1 failed. Never throws. */
export async function runProvider(definition: ProviderDefinition): Promise<number> {
  const stop = listenForStop();
  const stdout = new StdoutWriter();
  let session: StdinSession | undefined;
  try {
    session = await openStdin();
    return await serveCommand(definition, session, stdout, stop);
  } catch (error) {
    const message = describeFailure(error);
    logLine(`error: ${message}`);
    if (error instanceof ProtocolError || error instanceof OpenError) {
      await sendLine(stdout, { status: "error", message }).catch(() => {});
    }
    return 1;
  } finally {
    session?.release();
    stop.dispose();
  }
}

/** For a provider compiled to its own executable: run it, then exit with its code. */
export async function serve(definition: ProviderDefinition): Promise<never> {
  process.exit(await runProvider(definition));
}
