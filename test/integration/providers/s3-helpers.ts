// The S3 server for s3 tests (test/services/s3.sh: SeaweedFS on 127.0.0.1) and readers nobody here
// wrote (pyarrow and duckdb from PyPI, test/services/python-readers.sh) to read objects back.
import { resolve } from "node:path";

const repoRoot = resolve(import.meta.dir, "../../..");

export interface S3Server {
  endpoint: string;
  python: string;
}

async function script(name: string): Promise<string> {
  const child = Bun.spawn(["bash", resolve(repoRoot, "test/services", name)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`test/services/${name} failed: ${stderr.trim()}`);
  return stdout.trim().split("\n").at(-1) ?? "";
}

let server: Promise<S3Server> | undefined;

export function s3Server(): Promise<S3Server> {
  server ??= (async () => {
    const [endpoint, python] = await Promise.all([script("s3.sh"), script("python-readers.sh")]);
    return { endpoint, python };
  })();
  return server;
}

export const admin = { access_key_id: "dstream", secret_access_key: "dstream-secret" };
export const adminKeys = { access_key_id: "admin", secret_access_key: "admin-secret" };
export const reader = { access_key_id: "reader", secret_access_key: "reader-secret" };

/**
 * The domain s3.sh gives SeaweedFS (-s3.domainName) for virtual-hosted requests: <bucket>.s3.localhost
 * names the bucket, and Bun resolves any *.localhost name to 127.0.0.1 (RFC 6761).
 */
export const virtualHostDomain = "s3.localhost";

/** Settings every test passes: the local server, path-style, the admin keys. */
export function connection(endpoint: string, bucket: string): Record<string, unknown> {
  return { bucket, endpoint, ...admin };
}

// Reads with pyarrow's own S3 filesystem; each object is also loaded by duckdb from a local copy
// (duckdb's S3 support is an extension downloaded at run time, not part of its wheel).
const readerSource = String.raw`
import sys, json, decimal, datetime, tempfile, os
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.json as pj, pyarrow.fs as pfs, pyarrow.dataset as pds, duckdb
endpoint, bucket, prefix, action = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
host = endpoint.split("://", 1)[1]
s3 = pfs.S3FileSystem(endpoint_override=host, scheme="http", access_key="admin",
                      secret_key="admin-secret", region="us-east-1", allow_bucket_creation=True)
def plain(v):
    if isinstance(v, bool) or v is None: return v
    if isinstance(v, int): return v if abs(v) < 2**53 else {"int": str(v)}
    if isinstance(v, decimal.Decimal): return {"decimal": str(v)}
    if isinstance(v, datetime.datetime): return {"timestamp": v.isoformat()}
    if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    return v
if action == "create":
    s3.create_dir(bucket)
    print("[]"); sys.exit(0)
if action == "dataset":
    # The prefix as one table, with the newest object's schema (a widening only widens): pyarrow's
    # dataset over S3, and duckdb's read_parquet(union_by_name) over a local copy of every object.
    files = sorted(i.path for i in s3.get_file_info(pfs.FileSelector(bucket + "/" + prefix, recursive=True)) if i.type == pfs.FileType.File)
    newest = pq.read_schema(files[-1], filesystem=s3)
    table = pds.dataset(bucket + "/" + prefix, filesystem=s3, format="parquet", schema=newest).to_table()
    with tempfile.TemporaryDirectory() as folder:
        for info in s3.get_file_info(pfs.FileSelector(bucket + "/" + prefix, recursive=True)):
            if info.type != pfs.FileType.File: continue
            with s3.open_input_stream(info.path, compression=None) as source, open(os.path.join(folder, os.path.basename(info.path)), "wb") as local:
                local.write(source.read())
        found = duckdb.sql("select * exclude (filename) from read_parquet('%s/*.parquet', union_by_name = true, filename = true) order by filename" % folder)
        columns = found.columns
        duck = [dict(zip(columns, row)) for row in found.fetchall()]
    print(json.dumps({"schema": {f.name: str(f.type) for f in table.schema}, "rows": plain(table.to_pylist()), "duckdb": plain(duck)}))
    sys.exit(0)
if action == "count":
    column = sys.argv[5]
    out = []
    for info in sorted(s3.get_file_info(pfs.FileSelector(bucket + "/" + prefix, recursive=True)), key=lambda i: i.path):
        if info.type != pfs.FileType.File: continue
        with tempfile.NamedTemporaryFile(suffix=".parquet") as local:
            with s3.open_input_stream(info.path, compression=None) as source:
                local.write(source.read()); local.flush()
            rows = pq.ParquetFile(local.name).metadata.num_rows
            count, distinct, total = duckdb.sql("select count(*), count(distinct %s), sum(%s) from read_parquet('%s')" % (column, column, local.name)).fetchall()[0]
            out.append({"key": info.path[len(bucket) + 1:], "rows": rows, "duckdb_count": count, "distinct": distinct, "sum": int(total)})
    print(json.dumps(out)); sys.exit(0)
out = []
try:
    infos = s3.get_file_info(pfs.FileSelector(bucket + "/" + prefix, recursive=True, allow_not_found=True))
except OSError:
    infos = []
for info in sorted(infos, key=lambda i: i.path):
    if info.type != pfs.FileType.File: continue
    key = info.path[len(bucket) + 1:]
    with tempfile.NamedTemporaryFile(suffix=os.path.basename(key)) as local:
        with s3.open_input_stream(info.path, compression=None) as source:
            local.write(source.read()); local.flush()
        if key.endswith(".parquet"):
            table = pq.read_table(local.name)
            meta = pq.ParquetFile(local.name).metadata
            codecs = sorted({meta.row_group(g).column(c).compression for g in range(meta.num_row_groups) for c in range(meta.num_columns)})
            count = duckdb.sql("select count(*) from read_parquet('%s')" % local.name).fetchall()[0][0]
            schema = {f.name: str(f.type) for f in table.schema}
            rows = table.to_pylist()
            extra = {"codecs": codecs, "row_groups": meta.num_row_groups}
        else:
            compression = "gzip" if key.endswith(".gz") else "zstd" if key.endswith(".zst") else None
            with pa.input_stream(local.name, compression=compression) as stream:
                text = stream.read().decode("utf-8")
            rows = [json.loads(line) for line in text.splitlines() if line]
            count = duckdb.sql("select count(*) from read_json('%s', format='newline_delimited')" % local.name).fetchall()[0][0]
            schema, extra = {}, {}
        out.append({"key": key, "size": info.size, "schema": schema, "rows": plain(rows), "duckdb_count": count, **extra})
print(json.dumps(out))
`;

export interface StoredObject {
  key: string;
  size: number;
  schema: Record<string, string>;
  rows: Record<string, unknown>[];
  duckdb_count: number;
  codecs?: string[];
  row_groups?: number;
}

async function python(server: S3Server, args: string[]): Promise<string> {
  const child = Bun.spawn([server.python, "-c", readerSource, server.endpoint, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`pyarrow reader failed: ${stderr.trim().split("\n").at(-1)}`);
  return stdout;
}

/** Every object under bucket/prefix, read by pyarrow (rows) and counted by duckdb. */
export async function readObjects(
  server: S3Server,
  bucket: string,
  prefix = "",
): Promise<StoredObject[]> {
  return JSON.parse(await python(server, [bucket, prefix, "read"]));
}

export interface ObjectCount {
  key: string;
  rows: number;
  duckdb_count: number;
  distinct: number;
  sum: number;
}

/** Per Parquet object: pyarrow's row count, and duckdb's count, distinct count and sum of `column`. */
export async function countObjects(
  server: S3Server,
  bucket: string,
  column: string,
  prefix = "",
): Promise<ObjectCount[]> {
  return JSON.parse(await python(server, [bucket, prefix, "count", column]));
}

export interface DatasetRead {
  /** The newest object's schema, which pyarrow.dataset reads the whole prefix with. */
  schema: Record<string, string>;
  rows: Record<string, unknown>[];
  /** Rows as duckdb's read_parquet('<every object>/*.parquet', union_by_name = true) gives them. */
  duckdb: Record<string, unknown>[];
}

/** Every Parquet object under bucket/prefix read as one table, by pyarrow.dataset and by duckdb. */
export async function readDataset(
  server: S3Server,
  bucket: string,
  prefix: string,
): Promise<DatasetRead> {
  return JSON.parse(await python(server, [bucket, prefix, "dataset"]));
}

export async function createBucket(server: S3Server, bucket: string): Promise<void> {
  await python(server, [bucket, "", "create"]);
}

/** The keys under bucket/prefix right now, listed path-style with the admin keys (fast, for polling). */
export async function listKeys(server: S3Server, bucket: string, prefix = ""): Promise<string[]> {
  const client = new Bun.S3Client({
    endpoint: server.endpoint,
    bucket,
    accessKeyId: adminKeys.access_key_id,
    secretAccessKey: adminKeys.secret_access_key,
  });
  const listing = await client.list({ prefix, maxKeys: 1000 });
  return (listing.contents ?? []).map((item) => item.key).sort();
}

/** Waits until `key` is listed; fails after `timeoutMs` with what is there. */
export async function waitForKey(
  server: S3Server,
  bucket: string,
  key: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const keys = await listKeys(server, bucket);
    if (keys.includes(key)) return;
    if (Date.now() > deadline)
      throw new Error(`took too long: ${key} not in ${bucket} after ${timeoutMs} ms (${keys})`);
    await Bun.sleep(25);
  }
}

let bucketCounter = 0;
/** A bucket name no other test uses. */
export function uniqueBucket(label: string): string {
  bucketCounter++;
  return `${label}-${process.pid}-${bucketCounter}-${Date.now().toString(36)}`.toLowerCase();
}
