// Registry auth: parses WWW-Authenticate challenges and turns them into an Authorization header
// (Basic from credentials, or a Bearer token fetched from the challenge's realm).
import { DstreamError } from "../../errors.ts";
import type { Credentials } from "./credentials.ts";
import { ATTEMPTS, isRetryableStatus } from "./retry.ts";
import { requestWithRetry } from "./transport.ts";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://x/token",service="x",scope="repository:a:pull"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pairs = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const pair of (match[2] ?? "").matchAll(pairs)) {
    const key = pair[1];
    if (key) params[key.toLowerCase()] = (pair[2] ?? pair[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: (match[1] ?? "").toLowerCase(), params };
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

export interface AuthContext {
  registry: string;
  subject: string;
  credentials: Credentials | undefined;
  /** Scope asked for when the challenge names none, e.g. "repository:acme/x:pull". */
  scope: string;
  timeoutMs: number;
}

async function fetchToken(challenge: Challenge, context: AuthContext): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) {
    throw new DstreamError(
      "REGISTRY",
      `registry ${context.registry} asked for a Bearer token without a realm for ${context.subject}`,
    );
  }
  const query = new URLSearchParams();
  if (challenge.params.service) query.set("service", challenge.params.service);
  const scope = challenge.params.scope ?? context.scope;
  query.set("scope", scope);
  const credentials = context.credentials;
  let response: Response;
  if (credentials?.kind === "identity-token") {
    // An identity token is an OAuth2 refresh token, exchanged by POST (Docker's token spec).
    query.set("grant_type", "refresh_token");
    query.set("refresh_token", credentials.token);
    query.set("client_id", "dstream");
    response = await requestWithRetry(realm, {
      method: "POST",
      body: query,
      subject: context.subject,
      registry: context.registry,
      timeoutMs: context.timeoutMs,
    });
  } else {
    const headers: Record<string, string> = {};
    if (credentials)
      headers.authorization = basicHeader(credentials.username, credentials.password);
    response = await requestWithRetry(`${realm}?${query}`, {
      headers,
      subject: context.subject,
      registry: context.registry,
      timeoutMs: context.timeoutMs,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    if (isRetryableStatus(response.status)) {
      throw new DstreamError(
        "REGISTRY",
        `the token service of ${context.registry} kept failing for ${context.subject} with ${response.status} after ${ATTEMPTS} attempts: try again later`,
      );
    }
    throw new DstreamError(
      "REGISTRY",
      `the token service of ${context.registry} refused access to ${context.subject} (${response.status}): ${credentials ? "check the credentials" : "log in with docker login or set DSTREAM_REGISTRY_USERNAME and DSTREAM_REGISTRY_PASSWORD"}`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    token?: string;
    access_token?: string;
  };
  const token = body.token ?? body.access_token;
  if (!token) {
    throw new DstreamError(
      "REGISTRY",
      `the token service of ${context.registry} answered without a token for ${context.subject}`,
    );
  }
  return `Bearer ${token}`;
}

/** The Authorization header answering a challenge, or undefined when dstream cannot answer it. */
export async function answerChallenge(
  header: string | null,
  context: AuthContext,
): Promise<string | undefined> {
  const challenge = header ? parseChallenge(header) : undefined;
  if (challenge?.scheme === "bearer") return fetchToken(challenge, context);
  if (challenge?.scheme === "basic" && context.credentials?.kind === "basic") {
    return basicHeader(context.credentials.username, context.credentials.password);
  }
  return undefined;
}
