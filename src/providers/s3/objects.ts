// One object being written: its bytes go to S3 as they are made (Bun's multipart writer), as a
// Parquet file (row group by row group) or as JSON lines (compressed member by member).
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { S3Target } from "./client.ts";
import { answered, explainS3Error } from "./client.ts";
import { type ColumnType, convert, schemaElement, typeName, ValueError } from "./types.ts";

/** The multipart upload of one key; `complete()` resolves once S3 has the whole object. */
export class Upload {
  readonly #sink: Bun.NetworkSink;
  #buffered = 0;
  bytes = 0;

  constructor(
    readonly target: S3Target,
    readonly key: string,
    readonly partSize: number,
    contentType: string,
  ) {
    this.#sink = target.client.file(key).writer({
      partSize,
      queueSize: 2,
      retry: 3,
      type: contentType,
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    try {
      this.#sink.write(bytes);
      this.bytes += bytes.length;
      this.#buffered += bytes.length;
      // Bound what waits in memory: push parts out once a part's worth is buffered.
      if (this.#buffered >= this.partSize) {
        this.#buffered = 0;
        await answered(this.target, Promise.resolve(this.#sink.flush()));
      }
    } catch (error) {
      throw await explainS3Error(error, this.target, `writing ${this.key}`);
    }
  }

  async complete(): Promise<void> {
    try {
      await answered(this.target, Promise.resolve(this.#sink.end()));
    } catch (error) {
      throw await explainS3Error(error, this.target, `completing ${this.key}`);
    }
  }
}

/** A row: the event's `data` fields and the chosen metadata, as parsed; `sequence` names it in errors. */
export interface Row {
  values: Record<string, unknown>;
  where: string;
}

export type Compressor = (bytes: Uint8Array) => Uint8Array;

/** A Writer for hyparquet-writer that hands each finished row group to the upload. */
class UploadWriter extends ByteWriter {
  constructor(readonly upload: Upload) {
    super(1 << 20);
  }

  async flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index).slice();
    this.index = 0;
    await this.upload.write(bytes);
  }

  override finish(): void {}
}

/**
 * A Parquet object: each row's values converted on arrival into per-column arrays (one row group
 * at a time), encoded and uploaded as each group fills.
 */
export class ParquetObject {
  readonly #writer: UploadWriter;
  readonly #parquet: ParquetWriter;
  readonly #columns: [string, ColumnType][];
  #data: unknown[][];
  #count = 0;

  constructor(
    readonly upload: Upload,
    columns: Map<string, ColumnType>,
    codec: "SNAPPY" | "ZSTD" | "UNCOMPRESSED",
    compressors: Record<string, Compressor>,
    readonly rowGroupRows: number,
  ) {
    this.#columns = [...columns];
    this.#data = this.#columns.map(() => []);
    this.#writer = new UploadWriter(upload);
    const schema = [
      { name: "root", num_children: this.#columns.length },
      ...this.#columns.map(([name, type]) => schemaElement(name, type)),
    ];
    this.#parquet = new ParquetWriter({
      writer: this.#writer,
      schema,
      codec,
      compressors,
      createdBy: "dstream s3 output (hyparquet-writer)",
    });
  }

  async add(row: Row): Promise<void> {
    const columns = this.#columns;
    for (let index = 0; index < columns.length; index++) {
      const [name, type] = columns[index] as [string, ColumnType];
      let value: unknown;
      try {
        value = convert(row.values[name], type);
      } catch (error) {
        // The values of this row already pushed are taken back: the group stays rectangular.
        for (let undo = 0; undo < index; undo++) (this.#data[undo] as unknown[]).pop();
        if (error instanceof ValueError)
          throw new ValueError(
            `s3: field "${name}" (${typeName(type)}) at ${row.where}: ${error.message}`,
          );
        throw error;
      }
      (this.#data[index] as unknown[]).push(value);
    }
    this.#count++;
    if (this.#count >= this.rowGroupRows) await this.#writeRowGroup();
  }

  async #writeRowGroup(): Promise<void> {
    if (this.#count === 0) return;
    const columnData = this.#columns.map(([name], index) => ({
      name,
      data: this.#data[index] as unknown[],
    }));
    const rows = this.#count;
    this.#data = this.#columns.map(() => []);
    this.#count = 0;
    await this.#parquet.write({ columnData, rowGroupSize: rows });
  }

  async complete(): Promise<void> {
    await this.#writeRowGroup();
    this.#parquet.finish();
    await this.#writer.flush();
    await this.upload.complete();
  }
}

/**
 * A JSON-lines object: lines as received. gzip is one member for the whole object (streamed through
 * CompressionStream: some readers stop after a first member); zstd is a frame per ~1 MiB (every
 * zstd decoder reads concatenated frames).
 */
export class JsonlObject {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  readonly #gzip: ReturnType<CompressionStream["writable"]["getWriter"]> | undefined;
  readonly #drained: Promise<void> | undefined;

  constructor(
    readonly upload: Upload,
    readonly compression: "gzip" | "zstd" | "none",
  ) {
    if (compression === "gzip") {
      const stream = new CompressionStream("gzip");
      this.#gzip = stream.writable.getWriter();
      this.#drained = (async () => {
        for await (const chunk of stream.readable as unknown as AsyncIterable<Uint8Array>)
          await upload.write(chunk);
      })();
      // A failed upload surfaces in complete(); keep it from being an unhandled rejection now.
      this.#drained.catch(() => {});
    }
  }

  async add(line: Uint8Array): Promise<void> {
    this.#pending.push(line, NEWLINE);
    this.#pendingBytes += line.length + 1;
    if (this.#pendingBytes >= 1 << 20) await this.#emit();
  }

  async #emit(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const joined = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#gzip) await this.#gzip.write(joined);
    else if (this.compression === "zstd") await this.upload.write(Bun.zstdCompressSync(joined));
    else await this.upload.write(joined);
  }

  async complete(): Promise<void> {
    await this.#emit();
    if (this.#gzip) {
      await this.#gzip.close();
      await this.#drained;
    }
    await this.upload.complete();
  }
}

const NEWLINE = Uint8Array.of(10);
