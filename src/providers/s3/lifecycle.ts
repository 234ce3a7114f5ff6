// s3 lifecycle: init checks the bucket exists and takes a write (creating the bucket when it is
// missing), plan shows where objects will land, status counts what is there. Bun's S3Client has no
// CreateBucket, so that one request is signed here (AWS Signature V4, 40 lines, no library).
import { createHash, createHmac } from "node:crypto";
import { errorCode } from "../../errors.ts";
import type { LifecycleOutcome } from "../../sdk/index.ts";
import { answered, connect, describeS3Error, type S3Target } from "./client.ts";
import { extension, objectName } from "./naming.ts";
import type { S3OutputConfig } from "./schema.ts";

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) =>
  createHmac("sha256", key).update(data).digest();

/** Where the bucket itself is addressed: its URL for CreateBucket (path or virtual-hosted). */
function bucketUrl(config: S3OutputConfig, target: S3Target): URL {
  const region = target.credentials.region;
  const endpoint = new URL(config.endpoint ?? `https://s3.${region}.amazonaws.com`);
  const virtual =
    config.addressing === "virtual" || (config.addressing === "auto" && !config.endpoint);
  if (virtual) endpoint.hostname = `${config.bucket}.${endpoint.hostname}`;
  else endpoint.pathname = `${endpoint.pathname.replace(/\/$/, "")}/${config.bucket}`;
  return endpoint;
}

/** PUT Bucket, signed with Signature V4; resolves, or throws the S3 error code as `code`. */
export async function createBucket(config: S3OutputConfig, target: S3Target): Promise<void> {
  const { accessKeyId, secretAccessKey, sessionToken, region } = target.credentials;
  if (!accessKeyId || !secretAccessKey)
    throw Object.assign(new Error("no credentials"), { code: "ERR_S3_MISSING_CREDENTIALS" });
  const url = bucketUrl(config, target);
  const body =
    region === "us-east-1"
      ? ""
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    host: url.host,
    "x-amz-content-sha256": sha256(body),
    "x-amz-date": amzDate,
    ...(sessionToken ? { "x-amz-security-token": sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    "PUT",
    url.pathname === "" ? "/" : url.pathname,
    "",
    ...names.map((name) => `${name}:${headers[name]}`),
    "",
    names.join(";"),
    headers["x-amz-content-sha256"],
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const response = await fetch(url, {
    method: "PUT",
    body,
    signal: AbortSignal.timeout(target.timeoutMs),
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
    },
  });
  if (response.ok) return;
  const text = await answered(target, response.text());
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
  throw Object.assign(new Error(code), { code });
}

/** Writes and deletes a probe object under the prefix: the keys may write there. */
async function probeWrite(config: S3OutputConfig, target: S3Target): Promise<void> {
  const key = `${config.prefix}.dstream-init-probe`;
  try {
    await answered(
      target,
      target.client.write(key, "dstream init checks this prefix takes writes\n"),
    );
    await answered(target, target.client.delete(key));
  } catch (error) {
    throw describeS3Error(error, target, `writing ${key}`);
  }
}

function exampleKey(config: S3OutputConfig): string {
  const folder = config.partition === "none" ? "" : `dt=${new Date().toISOString().slice(0, 10)}/`;
  return `${config.prefix}${folder}${objectName(1)}${extension(config)}`;
}

export const s3Lifecycle = {
  async init(config: S3OutputConfig): Promise<LifecycleOutcome> {
    const target = connect(config);
    const resource = { type: "s3_bucket", name: config.bucket };
    let created = false;
    try {
      await answered(target, target.client.list({ maxKeys: 1 }));
    } catch (error) {
      if (errorCode(error) !== "NoSuchBucket") throw describeS3Error(error, target, "listing");
      try {
        await createBucket(config, target);
        created = true;
      } catch (createError) {
        throw describeS3Error(createError, target, "creating the bucket");
      }
    }
    await probeWrite(config, target);
    return {
      message: `${created ? "created bucket" : "bucket"} ${config.bucket} ${created ? "" : "exists and "}takes writes under "${config.prefix}"`,
      resources: [resource],
    };
  },

  async plan(config: S3OutputConfig): Promise<LifecycleOutcome> {
    const target = connect(config);
    let exists = true;
    try {
      await answered(target, target.client.list({ maxKeys: 1 }));
    } catch (error) {
      if (errorCode(error) !== "NoSuchBucket") throw describeS3Error(error, target, "listing");
      exists = false;
    }
    const rolled = `a new object every ${config.max_rows} rows, ${config.max_bytes} bytes or ${config.max_age}`;
    return {
      message: `${exists ? "" : `init would create bucket ${config.bucket}; `}objects land at s3://${config.bucket}/${exampleKey(config)} (named by each object's first sequence; ${rolled})`,
      resources: [{ type: "s3_bucket", name: config.bucket, exists }],
    };
  },

  async status(config: S3OutputConfig): Promise<LifecycleOutcome> {
    const target = connect(config);
    try {
      const listing = await answered(
        target,
        target.client.list({ prefix: config.prefix, maxKeys: 1000 }),
      );
      const count = listing.contents?.length ?? 0;
      const bytes = (listing.contents ?? []).reduce((sum, item) => sum + (item.size ?? 0), 0);
      return {
        message: `${count}${listing.isTruncated ? "+" : ""} object(s), ${bytes} bytes under s3://${config.bucket}/${config.prefix}`,
        resources: [{ type: "s3_bucket", name: config.bucket }],
      };
    } catch (error) {
      throw describeS3Error(error, target, "listing");
    }
  },
};
