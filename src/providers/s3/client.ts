// The S3 client (Bun's built-in S3Client) from the settings, AWS_* variables and profile files, and
// S3 failures as one-line errors that name the bucket and the fix, never a credential; every
// request bounded by request_timeout.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { TIMED_OUT, waitAtMost } from "../../bounded-wait.ts";
import { errorCode } from "../../errors.ts";
import { durationMs } from "./schema.ts";

export interface ConnectionSettings {
  bucket: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  addressing: "auto" | "path" | "virtual";
  access_key_id?: string | undefined;
  secret_access_key?: string | undefined;
  session_token?: string | undefined;
  profile?: string | undefined;
  request_timeout?: string | undefined;
}

export interface Credentials {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region: string;
  /** Where the keys came from, for messages: "settings", "environment", "profile NAME" or "none". */
  source: string;
}

/** Sections of an INI file (`[name]` then `key = value`), as ~/.aws/credentials and config use. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header?.[1]) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf("=");
    if (current && equals > 0)
      current.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return sections;
}

function readIni(path: string): Map<string, Map<string, string>> {
  try {
    return parseIni(readFileSync(path, "utf8"));
  } catch {
    return new Map();
  }
}

/** Settings first, then AWS_* variables, then the profile in the shared files; region likewise. */
export function resolveCredentials(
  settings: ConnectionSettings,
  env: Record<string, string | undefined> = process.env,
): Credentials {
  const profileName = settings.profile ?? env.AWS_PROFILE ?? "default";
  const home = env.HOME ?? homedir();
  const credentialsFile = readIni(
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, ".aws", "credentials"),
  );
  const configFile = readIni(env.AWS_CONFIG_FILE ?? join(home, ".aws", "config"));
  const fromCredentials = credentialsFile.get(profileName);
  const fromConfig =
    configFile.get(profileName === "default" ? "default" : `profile ${profileName}`) ??
    configFile.get(profileName);
  const profileValue = (key: string) => fromCredentials?.get(key) ?? fromConfig?.get(key);
  const region =
    settings.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    profileValue("region") ??
    "us-east-1";

  if (settings.access_key_id !== undefined || settings.secret_access_key !== undefined) {
    if (settings.access_key_id === undefined || settings.secret_access_key === undefined) {
      throw new Error(
        "s3: access_key_id and secret_access_key go together: set both, or neither to use AWS_* variables or a profile",
      );
    }
    return {
      accessKeyId: settings.access_key_id,
      secretAccessKey: settings.secret_access_key,
      ...(settings.session_token ? { sessionToken: settings.session_token } : {}),
      region,
      source: "settings",
    };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && settings.profile === undefined) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      region,
      source: "environment (AWS_ACCESS_KEY_ID)",
    };
  }
  const keyId = profileValue("aws_access_key_id");
  const secret = profileValue("aws_secret_access_key");
  if (keyId && secret) {
    const token = profileValue("aws_session_token");
    return {
      accessKeyId: keyId,
      secretAccessKey: secret,
      ...(token ? { sessionToken: token } : {}),
      region,
      source: `profile ${profileName}`,
    };
  }
  if (settings.profile !== undefined) {
    throw new Error(
      `s3: profile "${settings.profile}" has no aws_access_key_id and aws_secret_access_key in ~/.aws/credentials or ~/.aws/config`,
    );
  }
  return { region, source: "none" };
}

export interface S3Target {
  client: Bun.S3Client;
  bucket: string;
  credentials: Credentials;
  /** What to name in messages: the bucket and where it is. */
  where: string;
  /** request_timeout, as written and in milliseconds. */
  timeout: string;
  timeoutMs: number;
}

/** The code of the error a request gets when it goes request_timeout without an answer. */
export const NO_ANSWER = "NoAnswer";

/**
 * `request`'s value, or an error coded NO_ANSWER once it has gone request_timeout unanswered (Bun's
 * S3Client has no timeout of its own: a server that accepts and never answers would hang it).
 */
export async function answered<T>(target: S3Target, request: Promise<T>): Promise<T> {
  // The request goes on after a timeout; its later failure must not be an unhandled rejection.
  request.catch(() => {});
  const result = await waitAtMost(request, target.timeoutMs);
  if (result === TIMED_OUT)
    throw Object.assign(new Error(`no answer within ${target.timeout}`), { code: NO_ANSWER });
  return result;
}

export function connect(settings: ConnectionSettings): S3Target {
  const credentials = resolveCredentials(settings);
  const endpoint = settings.endpoint ?? `https://s3.${credentials.region}.amazonaws.com`;
  const virtual =
    settings.addressing === "virtual" ||
    (settings.addressing === "auto" && settings.endpoint === undefined);
  const options: Bun.S3Options = {
    bucket: settings.bucket,
    region: credentials.region,
    endpoint: virtual ? virtualEndpoint(endpoint, settings.bucket) : endpoint,
    virtualHostedStyle: virtual,
    // Without keys Bun would look in S3_* variables of its own; pass ours, or empty for anonymous.
    accessKeyId: credentials.accessKeyId ?? "",
    secretAccessKey: credentials.secretAccessKey ?? "",
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
  };
  const timeout = settings.request_timeout ?? "30s";
  return {
    client: new Bun.S3Client(options),
    bucket: settings.bucket,
    credentials,
    where: `bucket ${settings.bucket} at ${settings.endpoint ?? `AWS ${credentials.region}`}`,
    timeout,
    timeoutMs: durationMs(timeout),
  };
}

function virtualEndpoint(endpoint: string, bucket: string): string {
  const url = new URL(endpoint);
  url.hostname = `${bucket}.${url.hostname}`;
  return url.toString().replace(/\/$/, "");
}

/** An S3 failure as one line: what failed, on which bucket/key, and the fix. No secret. */
export function describeS3Error(error: unknown, target: S3Target, doing: string): Error {
  // fetch's AbortSignal.timeout (CreateBucket) rejects with a DOMException named TimeoutError.
  const timedOut = error instanceof Error && error.name === "TimeoutError";
  const code = timedOut ? NO_ANSWER : (errorCode(error) ?? "");
  const message = error instanceof Error ? error.message : String(error);
  const head = `s3: ${doing} in ${target.where} failed`;
  const keys = `credentials from ${target.credentials.source}`;
  const line = (() => {
    switch (code) {
      case "NoSuchBucket":
        return `${head}: the bucket does not exist (create it, or run dstream init, which creates it; dstream plan shows that first)`;
      case "AccessDenied":
      case "InvalidAccessKeyId":
      case "SignatureDoesNotMatch":
      case "ERR_S3_MISSING_CREDENTIALS":
      case "ERR_S3_INVALID_SIGNATURE":
        return `${head}: access denied (${code}) with ${keys}; check the keys and the bucket policy`;
      case "AuthorizationHeaderMalformed":
      case "PermanentRedirect":
      case "IllegalLocationConstraintException":
        return `${head}: wrong region "${target.credentials.region}" (${code}); set region to the bucket's region`;
      case NO_ANSWER:
        return `${head}: no answer within ${target.timeout} (request_timeout); check endpoint and the network, or raise request_timeout`;
      case "DNSResolveFailed":
      case "ENOTFOUND":
        return `${head}: the endpoint's host name does not resolve (${code}); check endpoint (or region, for AWS) and DNS`;
      case "ConnectionRefused":
      case "ECONNREFUSED":
      case "ConnectionClosed":
      case "FailedToOpenSocket":
      case "ETIMEDOUT":
        return `${head}: endpoint unreachable (${code}); check endpoint and the network`;
      default:
        if (/Unable to connect|ConnectionRefused|failed to connect|socket/i.test(message))
          return `${head}: endpoint unreachable (${message}); check endpoint and the network`;
        return `${head}: ${code ? `${code}: ` : ""}${firstLine(message)}`;
    }
  })();
  return new Error(scrub(line, target));
}

/**
 * Explains a failure; an AccessDenied is checked with a listing first, since some stores (SeaweedFS)
 * deny a write to a missing bucket instead of saying it is missing.
 */
export async function explainS3Error(
  error: unknown,
  target: S3Target,
  doing: string,
): Promise<Error> {
  if (errorCode(error) === "AccessDenied") {
    try {
      await answered(target, target.client.list({ maxKeys: 1 }));
    } catch (probe) {
      if (errorCode(probe) === "NoSuchBucket") return describeS3Error(probe, target, doing);
    }
  }
  return describeS3Error(error, target, doing);
}

/** Lists one key: the bucket exists, the endpoint answers and the keys may at least list it. */
export async function probe(target: S3Target): Promise<void> {
  try {
    await answered(target, target.client.list({ maxKeys: 1 }));
  } catch (error) {
    throw describeS3Error(error, target, "listing");
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

/** Takes any credential out of a message (a server may echo the access key id). */
export function scrub(text: string, target: S3Target): string {
  let out = text;
  const { secretAccessKey, sessionToken, accessKeyId } = target.credentials;
  // A key id is not secret, but a server may echo it: taken out when it is as long as AWS's (20);
  // a short one (a test server's "dstream") would blank ordinary words.
  const secrets = [
    secretAccessKey,
    sessionToken,
    accessKeyId && accessKeyId.length >= 12 ? accessKeyId : undefined,
  ];
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
