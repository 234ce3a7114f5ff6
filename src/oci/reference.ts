// OCI references as the distribution spec and Docker define them: host[:port]/repo/path:tag@digest.
import { isDigest } from "./digest.ts";

export interface ProviderReference {
  /** Registry host as written, with port; "docker.io" for Docker Hub. */
  registry: string;
  /** Repository path, "library/" added for single-name Docker Hub images. */
  repository: string;
  tag?: string;
  digest?: string;
  /** The reference as written. */
  original: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const hostPattern =
  /^(?:localhost|\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

/** The port of a host that matched hostPattern (digits after the last colon outside brackets). */
function portOf(host: string): number | undefined {
  const match = /:(\d+)$/.exec(host.slice(host.lastIndexOf("]") + 1));
  return match ? Number(match[1]) : undefined;
}

/** Parses a reference; returns a one-line reason instead when it is malformed. */
export function parseReference(text: string): ProviderReference | { error: string } {
  const fail = (reason: string) => ({ error: `invalid OCI reference "${text}": ${reason}` });
  if (text.trim() !== text || text === "") return fail("it is empty or has surrounding spaces");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) {
      return fail(
        "the digest must be sha256: followed by 64, or sha512: followed by 128, lowercase hex digits",
      );
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) {
      return fail(
        "a tag is up to 128 letters, digits, '_', '.' or '-' and cannot start with '.' or '-'",
      );
    }
  }
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  const hasHost =
    parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = "docker.io";
  if (hasHost) {
    if (!hostPattern.test(first)) return fail(`"${first}" is not a valid registry host[:port]`);
    const port = portOf(first);
    if (port !== undefined && (port < 1 || port > 65535)) {
      return fail(`the port ${port} of "${first}" is not between 1 and 65535`);
    }
    // Docker's legacy name for Docker Hub is Docker Hub: same defaults, same credential keys.
    registry = first === "index.docker.io" ? "docker.io" : first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((part) => part === "")) {
    return fail("the repository name is missing or has an empty path component");
  }
  for (const part of parts) {
    if (!pathComponent.test(part)) {
      return fail(
        `repository component "${part}" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
      );
    }
  }
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  if (!tag && !digest) return fail("add a tag (:v1.2.0) or a digest (@sha256:...)");
  const repository = parts.join("/");
  if (repository.length > 255) return fail("the repository name is longer than 255 characters");
  return {
    registry,
    repository,
    original: text,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}
