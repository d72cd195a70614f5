import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  byName,
  type FileInfo,
  type FileWriter,
  InvalidPathError,
  PathNotFoundError,
  type StorageDriver,
  StorageUnavailableError,
  type WalkFn,
} from "./driver.js";
import { validatePath } from "./paths.js";

export interface S3DriverOptions {
  /** http(s)://host:port of an S3-compatible service; AWS's own when omitted. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials; without them the SDK's usual chain (AWS_ACCESS_KEY_ID, …) applies. */
  accessKey?: string;
  secretKey?: string;
  /** Bucket in the path (http://host/bucket/key), as radosgw and MinIO on one host need. */
  forcePathStyle: boolean;
  /** Prefix of every key, so several registries can share a bucket. */
  rootDirectory: string;
  /** Size of multipart upload parts (S3's minimum is 5 MiB). */
  partSize: number;
  /** PEM CA bundle to trust for an https endpoint, and whether to skip verification (tests only). */
  ca?: string;
  insecureSkipVerify?: boolean;
  /** Create the bucket when it does not exist. */
  createBucket: boolean;
}

const MIN_PART = 5 * 1024 * 1024;
const MAX_COPY = 5 * 1024 * 1024 * 1024;
/** Keys under this first path component hold multipart state; driver paths may not use it. */
const STATE = ".multipart";

/**
 * A StorageDriver over an S3 bucket (tested against Ceph radosgw). A path "/a/b" is the key
 * `<rootDirectory>/a/b`; directories are key prefixes, as in distribution's s3 driver.
 *
 * A writer is a multipart upload: bytes go out in parts of `partSize` as they arrive, and the
 * object appears only when the writer commits (CompleteMultipartUpload), so nothing is ever
 * half-visible. Bytes that do not fill a part when a writer closes (the end of one PATCH of a
 * chunked blob upload) are kept in a small state object named after the part they will start, so
 * that a writer opened later, on any replica, continues exactly there; `stat` of an object being
 * written reports the bytes written so far.
 */
export class S3Driver implements StorageDriver {
  readonly name = "s3";
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(private readonly options: S3DriverOptions) {
    this.bucket = options.bucket;
    this.prefix = options.rootDirectory.replace(/^\/+|\/+$/g, "");
    this.partSize = Math.max(MIN_PART, options.partSize);
    const agentOptions = { keepAlive: true, maxSockets: 128 };
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.accessKey && options.secretKey
        ? { credentials: { accessKeyId: options.accessKey, secretAccessKey: options.secretKey } }
        : {}),
      // Checksums in trailers (aws-chunked) are newer than many S3-compatible services.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: 3000,
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent({
          ...agentOptions,
          ...(options.ca ? { ca: options.ca } : {}),
          rejectUnauthorized: options.insecureSkipVerify !== true,
        }),
      }),
    });
  }

  /** Checks that the bucket answers (creating it if configured to); throws StorageUnavailableError. */
  async open(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (!isNotFound(err) || !this.options.createBucket) throw this.translate(err, "/");
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      } catch (createErr) {
        const name = (createErr as { name?: string }).name;
        if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists")
          throw this.translate(createErr, "/");
      }
    }
  }

  key(p: string): string {
    return this.prefix ? `${this.prefix}${p}` : p.slice(1);
  }

  private stateKey(p: string, name: string): string {
    return this.key(`/${STATE}${p}/${name}`);
  }

  #check(p: string, allowRoot = false): void {
    validatePath(p, { allowRoot });
    if (p === `/${STATE}` || p.startsWith(`/${STATE}/`)) throw new InvalidPathError(p);
  }

  async getContent(p: string): Promise<Buffer> {
    this.#check(p);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      throw this.translate(err, p);
    }
  }

  async putContent(p: string, content: Uint8Array): Promise<void> {
    this.#check(p);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(p),
          Body: content,
          ContentLength: content.length,
        }),
      );
    } catch (err) {
      throw this.translate(err, p);
    }
  }

  async reader(p: string, offset = 0, end?: number): Promise<Readable> {
    this.#check(p);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid read offset: ${offset}`);
    if (end !== undefined && (!Number.isSafeInteger(end) || end < offset - 1)) {
      throw new RangeError(`invalid read range: ${offset}-${end}`);
    }
    if (end === offset - 1) {
      await this.headObject(p);
      return Readable.from([]);
    }
    const range = offset === 0 && end === undefined ? undefined : `bytes=${offset}-${end ?? ""}`;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p), ...(range ? { Range: range } : {}) }),
      );
      return res.Body as Readable;
    } catch (err) {
      // A range starting at the end of the object is empty, not an error.
      if ((err as { name?: string }).name === "InvalidRange" && (await this.headObject(p)).size === offset) {
        return Readable.from([]);
      }
      throw this.translate(err, p);
    }
  }

  async writer(p: string, append: boolean): Promise<FileWriter> {
    this.#check(p);
    try {
      const writer = new S3Writer(this, p, this.partSize);
      await (append ? writer.resume() : writer.truncate());
      return writer;
    } catch (err) {
      throw this.translate(err, p);
    }
  }

  async stat(p: string): Promise<FileInfo> {
    this.#check(p);
    try {
      return await this.headObject(p);
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    try {
      const children = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.key(p)}/`, MaxKeys: 1 }),
      );
      if ((children.KeyCount ?? 0) > 0) return { path: p, size: 0, modTime: new Date(0), isDir: true };
      const progress = await new S3Writer(this, p, this.partSize).progress();
      if (progress) return { path: p, size: progress.size, modTime: progress.modTime, isDir: false };
    } catch (err) {
      throw this.translate(err, p);
    }
    throw new PathNotFoundError(p);
  }

  async list(p: string): Promise<string[]> {
    this.#check(p, true);
    const prefix = p === "/" ? (this.prefix ? `${this.prefix}/` : "") : `${this.key(p)}/`;
    const names = new Set<string>();
    try {
      let token: string | undefined;
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        );
        for (const c of res.CommonPrefixes ?? []) names.add(c.Prefix!.slice(prefix.length, -1));
        for (const c of res.Contents ?? []) names.add(c.Key!.slice(prefix.length));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.translate(err, p);
    }
    if (p === "/") names.delete(STATE);
    if (names.size === 0 && p !== "/") throw new PathNotFoundError(p);
    return [...names];
  }

  /** One delimited listing per directory, so that a skipped directory costs no request at all. */
  async walk(p: string, visit: WalkFn): Promise<void> {
    this.#check(p, true);
    const entries = await this.#listEntries(p);
    if (entries.length === 0 && p !== "/") throw new PathNotFoundError(p);
    await this.#walkEntries(entries, visit);
  }

  async #walkEntries(entries: FileInfo[], visit: WalkFn): Promise<void> {
    for (const entry of entries) {
      const answer = await visit(entry);
      if (entry.isDir && answer !== "skip")
        await this.#walkEntries(await this.#listEntries(entry.path), visit);
    }
  }

  /** The direct children of a directory, files with their size and time, sorted by name. */
  async #listEntries(p: string): Promise<FileInfo[]> {
    const prefix = p === "/" ? (this.prefix ? `${this.prefix}/` : "") : `${this.key(p)}/`;
    const base = p === "/" ? "" : p;
    const entries = new Map<string, FileInfo>();
    try {
      let token: string | undefined;
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        );
        for (const c of res.CommonPrefixes ?? []) {
          const name = c.Prefix!.slice(prefix.length, -1);
          entries.set(name, { path: `${base}/${name}`, size: 0, modTime: new Date(0), isDir: true });
        }
        for (const c of res.Contents ?? []) {
          const name = c.Key!.slice(prefix.length);
          if (name !== "" && !entries.has(name)) {
            entries.set(name, {
              path: `${base}/${name}`,
              size: c.Size ?? 0,
              modTime: c.LastModified ?? new Date(0),
              isDir: false,
            });
          }
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.translate(err, p);
    }
    if (p === "/") entries.delete(STATE);
    return [...entries.values()].sort((a, b) => byName(a.path, b.path));
  }

  async move(source: string, dest: string): Promise<void> {
    this.#check(source);
    this.#check(dest);
    try {
      try {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.key(dest),
            CopySource: `${this.bucket}/${encodeURIComponent(this.key(source)).replace(/%2F/g, "/")}`,
          }),
        );
      } catch (err) {
        // One CopyObject takes at most 5 GiB; bigger objects are copied in parts.
        const size = (await this.headObject(source)).size;
        if (size <= MAX_COPY) throw err;
        await this.copyInParts(source, dest, size);
      }
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(source) }));
    } catch (err) {
      throw this.translate(err, source);
    }
  }

  async delete(p: string): Promise<void> {
    this.#check(p);
    let found = false;
    try {
      try {
        await this.headObject(p);
        found = true;
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
      for (const prefix of [`${this.key(p)}/`, `${this.key(`/${STATE}${p}`)}/`]) {
        if ((await this.deletePrefix(prefix)) > 0) found = true;
      }
      // Writers in progress below the path (an upload's data) go too.
      if ((await this.abortUploads(this.key(p), true)) > 0) found = true;
    } catch (err) {
      throw this.translate(err, p);
    }
    if (!found) throw new PathNotFoundError(p);
  }

  /** A time-limited URL that GETs the object straight from the object store (blob redirects). */
  presignedGetUrl(p: string, expiresInSeconds = 1200): Promise<string> {
    this.#check(p);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p) }), {
      expiresIn: expiresInSeconds,
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  async headObject(p: string): Promise<FileInfo> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      return {
        path: p,
        size: res.ContentLength ?? 0,
        modTime: res.LastModified ?? new Date(0),
        isDir: false,
      };
    } catch (err) {
      throw this.translate(err, p);
    }
  }

  /** Deletes every key under a prefix; returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (res.Contents ?? []).map((c) => ({ Key: c.Key! }));
      if (keys.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
        deleted += keys.length;
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /** Multipart uploads of `key` (or, with `below`, of keys under `key/`), most recent first. */
  async uploadsOf(key: string, below = false): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
    const out: { key: string; uploadId: string; initiated: Date }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const res = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: below ? `${key}/` : key,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of res.Uploads ?? []) {
        if (below || u.Key === key)
          out.push({ key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated ?? new Date(0) });
      }
      if (!res.IsTruncated) break;
      keyMarker = res.NextKeyMarker;
      uploadIdMarker = res.NextUploadIdMarker;
    }
    return out.sort((a, b) => b.initiated.getTime() - a.initiated.getTime());
  }

  async abortUploads(key: string, below = false): Promise<number> {
    const uploads = await this.uploadsOf(key, below);
    for (const u of uploads) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.key, UploadId: u.uploadId }))
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
    }
    return uploads.length;
  }

  private async copyInParts(source: string, dest: string, size: number): Promise<void> {
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(dest) }),
    );
    const uploadId = created.UploadId!;
    const step = 1024 * 1024 * 1024;
    const parts: { PartNumber: number; ETag: string }[] = [];
    try {
      for (let start = 0, n = 1; start < size; start += step, n++) {
        const end = Math.min(size, start + step) - 1;
        const res = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: this.key(dest),
            UploadId: uploadId,
            PartNumber: n,
            CopySource: `${this.bucket}/${encodeURIComponent(this.key(source)).replace(/%2F/g, "/")}`,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: n, ETag: res.CopyPartResult!.ETag! });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(dest),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await this.client
        .send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(dest), UploadId: uploadId }),
        )
        .catch(() => {});
      throw err;
    }
  }

  /** Not found becomes PathNotFoundError; a service that cannot be reached, StorageUnavailableError. */
  translate(err: unknown, p: string): unknown {
    if (
      err instanceof PathNotFoundError ||
      err instanceof InvalidPathError ||
      err instanceof StorageUnavailableError
    ) {
      return err;
    }
    if (isNotFound(err)) return new PathNotFoundError(p);
    if (isUnavailable(err)) {
      const e = err as { code?: string; name?: string; message?: string };
      return new StorageUnavailableError(
        `object storage: ${e.code ?? e.name ?? "error"}: ${e.message ?? ""}`.trim(),
        err,
      );
    }
    return err;
  }

  stateKeyOf(p: string, name: string): string {
    return this.stateKey(p, name);
  }
}

interface Part {
  PartNumber: number;
  ETag: string;
  Size: number;
}

class S3Writer implements FileWriter {
  #size = 0;
  #uploadId: string | undefined;
  #parts: Part[] = [];
  #buffer: Buffer[] = [];
  #buffered = 0;
  #state: "open" | "committed" | "cancelled" | "closed" = "open";
  #tail: Promise<void> = Promise.resolve();
  #uploading: Promise<void> = Promise.resolve();
  #failure: unknown;
  /** The part number of the pending object this writer started from, if any. */
  #loadedPending: number | undefined;
  /** A pending object not fetched yet: a writer that only commits copies it in place server-side. */
  #remotePending: number | undefined;

  constructor(
    private readonly driver: S3Driver,
    private readonly path: string,
    private readonly partSize: number,
  ) {}

  get size(): number {
    return this.#size;
  }

  private get key(): string {
    return this.driver.key(this.path);
  }

  private pendingKey(partNumber: number): string {
    return this.driver.stateKeyOf(this.path, `pending-${partNumber}`);
  }

  /** A fresh object: what was being written at this path is dropped. */
  async truncate(): Promise<void> {
    await this.driver.abortUploads(this.key);
    await this.driver.deletePrefix(`${this.driver.stateKeyOf(this.path, "")}`);
  }

  /** Continues where the last writer of this path stopped. */
  async resume(): Promise<void> {
    const progress = await this.progress();
    if (progress) {
      this.#uploadId = progress.uploadId;
      this.#parts = progress.parts;
      if (progress.pendingSize > 0) {
        this.#loadedPending = progress.parts.length + 1;
        this.#remotePending = this.#loadedPending;
      }
      this.#size = progress.size;
      return;
    }
    // Appending to a committed object: start from its content.
    try {
      const info = await this.driver.headObject(this.path);
      if (info.size > 0) {
        const body = await this.driver.getContent(this.path);
        this.#push(body);
        this.#size = body.length;
      }
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
  }

  /** The state a writer left: its multipart upload, parts and pending bytes; undefined when none. */
  async progress(
    loadPending = false,
  ): Promise<
    | { uploadId?: string; parts: Part[]; pending?: Buffer; pendingSize: number; size: number; modTime: Date }
    | undefined
  > {
    const client = this.driver.client;
    const [upload] = await this.driver.uploadsOf(this.key);
    const parts: Part[] = [];
    if (upload) {
      let marker: string | undefined;
      for (;;) {
        const res = await client.send(
          new ListPartsCommand({
            Bucket: this.driver.bucket,
            Key: this.key,
            UploadId: upload.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of res.Parts ?? [])
          parts.push({ PartNumber: p.PartNumber!, ETag: p.ETag!, Size: p.Size ?? 0 });
        if (!res.IsTruncated) break;
        marker = res.NextPartNumberMarker;
      }
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      // Parts go out one after another, so they are 1..n; anything after a gap was never acknowledged.
      const contiguous = parts.findIndex((p, i) => p.PartNumber !== i + 1);
      if (contiguous >= 0) parts.length = contiguous;
    }
    const next = parts.length + 1;
    let pending: Buffer | undefined;
    let pendingSize = 0;
    let modTime = upload?.initiated;
    try {
      if (loadPending) {
        const res = await client.send(
          new GetObjectCommand({ Bucket: this.driver.bucket, Key: this.pendingKey(next) }),
        );
        pending = Buffer.from(await res.Body!.transformToByteArray());
        pendingSize = pending.length;
        modTime = res.LastModified ?? modTime;
      } else {
        const res = await client.send(
          new HeadObjectCommand({ Bucket: this.driver.bucket, Key: this.pendingKey(next) }),
        );
        pendingSize = res.ContentLength ?? 0;
        modTime = res.LastModified ?? modTime;
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (!upload) return undefined;
    }
    const size = parts.reduce((n, p) => n + p.Size, 0) + pendingSize;
    return {
      ...(upload ? { uploadId: upload.uploadId } : {}),
      parts,
      ...(pending ? { pending } : {}),
      pendingSize,
      size,
      modTime: modTime ?? new Date(0),
    };
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== "open") return Promise.reject(new Error(`writer is ${this.#state}: ${this.path}`));
    const step = this.#tail.then(async () => {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#remotePending !== undefined) await this.#fetchPending();
      this.#push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#size += chunk.byteLength;
      while (this.#buffered >= this.partSize) await this.#sendPart(this.#take(this.partSize));
    });
    this.#tail = step.catch((err) => {
      this.#failure ??= err;
    });
    return step.catch((err) => {
      throw this.driver.translate(err, this.path);
    });
  }

  async commit(): Promise<void> {
    this.#finish("committed");
    await this.#drain();
    const client = this.driver.client;
    try {
      if (this.#remotePending !== undefined) {
        // Only committing: the pending bytes become the object, or its last part, without
        // passing through this process.
        const source = `${this.driver.bucket}/${encodeURIComponent(this.pendingKey(this.#remotePending)).replace(/%2F/g, "/")}`;
        if (!this.#uploadId) {
          await client.send(
            new CopyObjectCommand({ Bucket: this.driver.bucket, Key: this.key, CopySource: source }),
          );
        } else {
          const partNumber = this.#parts.length + 1;
          const res = await client.send(
            new UploadPartCopyCommand({
              Bucket: this.driver.bucket,
              Key: this.key,
              UploadId: this.#uploadId,
              PartNumber: partNumber,
              CopySource: source,
            }),
          );
          this.#parts.push({ PartNumber: partNumber, ETag: res.CopyPartResult!.ETag!, Size: 0 });
        }
      }
      if (this.#remotePending !== undefined && !this.#uploadId) {
        // Done above.
      } else if (!this.#uploadId) {
        const body = this.#take(this.#buffered);
        await client.send(
          new PutObjectCommand({
            Bucket: this.driver.bucket,
            Key: this.key,
            Body: body,
            ContentLength: body.length,
          }),
        );
      } else {
        if (this.#remotePending === undefined && (this.#buffered > 0 || this.#parts.length === 0)) {
          await this.#sendPart(this.#take(this.#buffered));
        }
        await this.#uploading;
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.driver.bucket,
            Key: this.key,
            UploadId: this.#uploadId,
            MultipartUpload: { Parts: this.#parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
          }),
        );
      }
      if (this.#loadedPending !== undefined) {
        await this.driver.client.send(
          new DeleteObjectCommand({ Bucket: this.driver.bucket, Key: this.pendingKey(this.#loadedPending) }),
        );
      }
    } catch (err) {
      throw this.driver.translate(err, this.path);
    }
  }

  async cancel(): Promise<void> {
    this.#finish("cancelled");
    await this.#drain().catch(() => {});
    try {
      await this.driver.abortUploads(this.key);
      await this.driver.deletePrefix(this.driver.stateKeyOf(this.path, ""));
    } catch (err) {
      throw this.driver.translate(err, this.path);
    }
  }

  /** Keeps what was written: full parts stay parts, the rest goes to the pending object. */
  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#finish("closed");
    await this.#drain();
    try {
      // A tail of at least S3's minimum part size can be a part already: less to carry later.
      if (this.#buffered >= MIN_PART) {
        await this.#sendPart(this.#take(this.#buffered));
        await this.#uploading;
        if (this.#failure !== undefined) throw this.#failure;
      }
      const next = this.#parts.length + 1;
      if (this.#remotePending !== undefined) return;
      if (this.#buffered > 0) {
        const body = this.#take(this.#buffered);
        await this.driver.client.send(
          new PutObjectCommand({
            Bucket: this.driver.bucket,
            Key: this.pendingKey(next),
            Body: body,
            ContentLength: body.length,
          }),
        );
      }
      // The pending object this writer started from is in a part now (and one of the same number was replaced).
      if (this.#loadedPending !== undefined && this.#loadedPending !== next) {
        await this.driver.client
          .send(
            new DeleteObjectCommand({
              Bucket: this.driver.bucket,
              Key: this.pendingKey(this.#loadedPending),
            }),
          )
          .catch(() => {});
      }
    } catch (err) {
      throw this.driver.translate(err, this.path);
    }
  }

  async #fetchPending(): Promise<void> {
    const n = this.#remotePending!;
    const res = await this.driver.client.send(
      new GetObjectCommand({ Bucket: this.driver.bucket, Key: this.pendingKey(n) }),
    );
    const bytes = Buffer.from(await res.Body!.transformToByteArray());
    this.#remotePending = undefined;
    // Ahead of anything written since: these bytes come first.
    this.#buffer.unshift(bytes);
    this.#buffered += bytes.length;
  }

  async #drain(): Promise<void> {
    await this.#tail;
    // A part that failed after write() returned (object storage went away under it): its raw
    // socket error is the writer's failure, told like every other (unavailable, so 503).
    await this.#uploading.catch((err) => {
      this.#failure ??= err;
    });
    if (this.#failure !== undefined) throw this.driver.translate(this.#failure, this.path);
  }

  #finish(state: "committed" | "cancelled" | "closed"): void {
    if (this.#state !== "open") throw new Error(`writer is ${this.#state}: ${this.path}`);
    this.#state = state;
  }

  #push(chunk: Buffer): void {
    this.#buffer.push(chunk);
    this.#buffered += chunk.length;
  }

  #take(n: number): Buffer {
    const all = this.#buffer.length === 1 ? this.#buffer[0]! : Buffer.concat(this.#buffer, this.#buffered);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#buffer = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#buffered = rest.length;
    return taken;
  }

  /** Uploads one part while the next fills: at most one part in flight, so parts complete in order. */
  async #sendPart(body: Buffer): Promise<void> {
    await this.#uploading;
    const client = this.driver.client;
    if (!this.#uploadId) {
      const created = await client.send(
        new CreateMultipartUploadCommand({ Bucket: this.driver.bucket, Key: this.key }),
      );
      this.#uploadId = created.UploadId!;
    }
    const partNumber = this.#parts.length + 1;
    const uploadId = this.#uploadId;
    const sent = client
      .send(
        new UploadPartCommand({
          Bucket: this.driver.bucket,
          Key: this.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      )
      .then((res) => {
        this.#parts[partNumber - 1] = { PartNumber: partNumber, ETag: res.ETag!, Size: body.length };
      });
    // Reserve the slot now so the next part gets the next number.
    this.#parts.push({ PartNumber: partNumber, ETag: "", Size: body.length });
    this.#uploading = sent;
    sent.catch((err) => {
      this.#failure ??= err;
    });
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "NoSuchKey" ||
    e?.name === "NotFound" ||
    e?.name === "NoSuchBucket" ||
    e?.name === "NoSuchUpload" ||
    e?.$metadata?.httpStatusCode === 404
  );
}

function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"].includes(
      e?.code ?? "",
    ) ||
    e?.name === "TimeoutError" ||
    e?.name === "RequestTimeout" ||
    (status !== undefined && status >= 500)
  );
}
