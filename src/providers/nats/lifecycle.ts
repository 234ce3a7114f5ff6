// nats lifecycle: init creates the output's stream, destroy deletes it when init created it, status
// shows the stream (output) or the durable consumer's backlog (input).
import { type JetStreamManager, jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { LifecycleOutcome } from "../../sdk/index.ts";
import { closeWithin, connectNats, errorText } from "./connection.ts";
import type { NatsConnectionConfig, NatsInputConfig, NatsOutputConfig } from "./schema.ts";

function isNotFound(error: unknown): boolean {
  return /not found/i.test(errorText(error));
}

/** The stream's info, or one line saying it is missing and how to create it. */
export async function requireStream(jsm: JetStreamManager, stream: string): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (isNotFound(error)) {
      throw new Error(
        `nats: stream "${stream}" does not exist; create it (dstream init) or check stream`,
      );
    }
    throw new Error(
      `nats: cannot read stream "${stream}" (${errorText(error)}); check that JetStream is enabled (nats-server -js)`,
    );
  }
}

async function withManager<T>(
  config: NatsConnectionConfig,
  use: (jsm: JetStreamManager) => Promise<T>,
): Promise<T> {
  const connection = await connectNats(config);
  try {
    return await use(await jetstreamManager(connection));
  } finally {
    await closeWithin(connection);
  }
}

/**
 * What init writes in the description of a stream it creates: destroy deletes only such a stream.
 * (Stream metadata would be the place, but nats-server before 2.10 drops it.)
 */
const CREATED_MARK = "created by dstream init";

function createdByInit(info: StreamInfo): boolean {
  return info.config.description?.startsWith(CREATED_MARK) ?? false;
}

/** The subjects the output's stream must hold. */
function streamSubjects(config: NatsOutputConfig): string[] {
  return [config.subject ?? `${config.subject_prefix}.>`];
}

export const outputLifecycle = {
  init(config: NatsOutputConfig, context: { task: string }): Promise<LifecycleOutcome> {
    return withManager(config, async (jsm) => {
      const resource = { type: "jetstream_stream", name: config.stream };
      try {
        await jsm.streams.info(config.stream);
        return { message: `stream "${config.stream}" already exists`, resources: [resource] };
      } catch (error) {
        if (!isNotFound(error))
          throw new Error(`nats: cannot read stream "${config.stream}" (${errorText(error)})`);
      }
      const subjects = streamSubjects(config);
      try {
        await jsm.streams.add({
          name: config.stream,
          subjects,
          description: `${CREATED_MARK} for task ${context.task} at ${new Date().toISOString()}`,
        });
      } catch (error) {
        throw new Error(`nats: cannot create stream "${config.stream}" (${errorText(error)})`);
      }
      return {
        message: `created stream "${config.stream}" for ${subjects.join(", ")}`,
        resources: [resource],
      };
    });
  },
  plan(config: NatsOutputConfig): Promise<LifecycleOutcome> {
    return withManager(config, async (jsm) => {
      try {
        await jsm.streams.info(config.stream);
        return { message: `stream "${config.stream}" exists` };
      } catch {
        return {
          message: `init would create stream "${config.stream}" for ${streamSubjects(config).join(", ")}`,
        };
      }
    });
  },
  status(config: NatsOutputConfig): Promise<LifecycleOutcome> {
    return withManager(config, async (jsm) => {
      try {
        const info = await requireStream(jsm, config.stream);
        return {
          message: `stream "${config.stream}": ${info.state.messages} messages, ${info.state.bytes} bytes`,
          resources: [
            {
              type: "jetstream_stream",
              name: config.stream,
              messages: info.state.messages,
              bytes: info.state.bytes,
            },
          ],
        };
      } catch (error) {
        return { status: "Failed", message: errorText(error) };
      }
    });
  },
  destroy(config: NatsOutputConfig): Promise<LifecycleOutcome> {
    return withManager(config, async (jsm) => {
      try {
        const info = await jsm.streams.info(config.stream);
        if (!createdByInit(info)) {
          return {
            message: `stream "${config.stream}" was not created by dstream init: left in place (delete it yourself if it should go)`,
          };
        }
        await jsm.streams.delete(config.stream);
      } catch (error) {
        if (isNotFound(error)) return { message: `stream "${config.stream}" does not exist` };
        throw new Error(`nats: cannot delete stream "${config.stream}" (${errorText(error)})`);
      }
      return { message: `deleted stream "${config.stream}"` };
    });
  },
};

export const inputLifecycle = {
  status(config: NatsInputConfig): Promise<LifecycleOutcome> {
    return withManager(config, async (jsm) => {
      try {
        const info = await jsm.consumers.info(config.stream, config.durable);
        return {
          message: `durable "${config.durable}" of stream "${config.stream}": ${info.num_pending} not yet delivered, ${info.num_ack_pending} delivered and not yet acked`,
          resources: [
            {
              type: "jetstream_consumer",
              stream: config.stream,
              name: config.durable,
              pending: info.num_pending,
              ack_pending: info.num_ack_pending,
            },
          ],
        };
      } catch (error) {
        return {
          status: "Failed",
          message: `nats: durable "${config.durable}" of stream "${config.stream}": ${errorText(error)}`,
        };
      }
    });
  },
};
