import { UnavailableError } from "../core/errors.ts";
import { type BlobBody, type BlobInfo, type BlobStore, type ByteRange, checkBlobKey, type PresignOptions, wholeBlob } from "./blob-store.ts";
import { pieces, sliceStream } from "./_streams.ts";
import { presignUrl, type S3Credentials, sha256Hex, signRequest, uriEncode } from "./_sigv4.ts";
import { xmlText, xmlTexts } from "./_xml.ts";

export type { S3Credentials } from "./_sigv4.ts";

/** Options of {@link S3BlobStore}. */
export interface S3BlobStoreOptions {
  /** Bucket name; it must exist (the store does not create it). */
  bucket: string;
  /** Prepended to every key, e.g. `chapkit/` (default none). */
  prefix?: string;
  /** The service's origin (default `https://s3.<region>.amazonaws.com`); `https://storage.googleapis.com` for GCS's interoperability API. */
  endpoint?: string;
  /** The signing region (default `us-east-1`; GCS takes `auto` or any). */
  region?: string;
  /** `virtual` (`bucket.host/key`, the default on AWS) or `path` (`host/bucket/key`, the default with an `endpoint`). */
  style?: "path" | "virtual";
  /** Access key and secret (HMAC keys on GCS). */
  credentials: S3Credentials;
  /** Bytes per multipart part (default 8 MiB, at least 5 MiB); bodies longer than one part are sent in parts. */
  partSize?: number;
  /** The fetch to call (default the global one). */
  fetch?: typeof fetch;
}

const MIB = 1024 * 1024;

interface Call {
  method: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/**
 * Blobs in S3 or an S3-compatible service (MinIO, Ceph, R2, GCS through its
 * interoperability API), signed with SigV4 by this module (no SDK). Bodies
 * larger than one part go up as a multipart upload, one part in memory at a
 * time; downloads stream, ranges included; `presign` makes query-signed URLs.
 */
export class S3BlobStore implements BlobStore {
  /** Always `s3`. */
  readonly kind = "s3";
  readonly #options: S3BlobStoreOptions;
  readonly #region: string;
  readonly #prefix: string;
  readonly #partSize: number;
  readonly #fetch: typeof fetch;
  readonly #base: URL;
  readonly #virtual: boolean;

  /** Opens the store (no request is made until the first call). */
  constructor(options: S3BlobStoreOptions) {
    this.#options = options;
    this.#region = options.region ?? "us-east-1";
    this.#prefix = options.prefix ?? "";
    this.#partSize = Math.max(options.partSize ?? 8 * MIB, 5 * MIB);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#base = new URL(options.endpoint ?? `https://s3.${this.#region}.amazonaws.com`);
    this.#virtual = (options.style ?? (options.endpoint ? "path" : "virtual")) === "virtual";
  }

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    checkBlobKey(key);
    const parts = pieces(body, this.#partSize)[Symbol.asyncIterator]();
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) {
      const bytes = first.done ? new Uint8Array(0) : first.value;
      await this.#call({ method: "PUT", key, body: bytes });
      return { key, size: bytes.byteLength };
    }
    const created = await this.#call({ method: "POST", key, query: { uploads: "" } });
    const uploadId = xmlText(await created.text(), "UploadId");
    if (!uploadId) throw new UnavailableError("S3 answered CreateMultipartUpload without an UploadId");
    const etags: string[] = [];
    let size = 0;
    try {
      const upload = async (bytes: Uint8Array): Promise<void> => {
        const response = await this.#call({ method: "PUT", key, query: { partNumber: String(etags.length + 1), uploadId }, body: bytes });
        await response.body?.cancel();
        etags.push(response.headers.get("etag") ?? "");
        size += bytes.byteLength;
      };
      await upload(first.value!);
      await upload(second.value);
      for (let next = await parts.next(); !next.done; next = await parts.next()) await upload(next.value);
      const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
      const done = await this.#call({ method: "POST", key, query: { uploadId }, body: new TextEncoder().encode(xml) });
      checkBody(await done.text(), "CompleteMultipartUpload");
    } catch (error) {
      await this.#call({ method: "DELETE", key, query: { uploadId } }).then((r) => r.body?.cancel(), () => {});
      throw error;
    }
    return { key, size };
  }

  async get(key: string): Promise<Uint8Array | null> {
    return await wholeBlob(await this.stream(key));
  }

  async stream(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    const response = await this.#call({
      method: "GET",
      key,
      ...(range ? { headers: { range: `bytes=${range.start}-${range.end}` } } : {}),
    }, [404]);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    const body = response.body ?? new ReadableStream({ start: (c) => c.close() });
    if (!range) return body;
    // Some servers ignore Range (200, the whole object) or answer a wider one: cut what was asked out of it.
    const given = /bytes (\d+)-(\d+)/.exec(response.headers.get("content-range") ?? "");
    const offset = response.status === 206 && given ? Number(given[1]) : 0;
    const end = response.status === 206 && given ? Number(given[2]) : Number.POSITIVE_INFINITY;
    if (offset === range.start && end === range.end) return body;
    return sliceStream(body, { start: range.start - offset, end: range.end - offset });
  }

  async head(key: string): Promise<BlobInfo | null> {
    const response = await this.#call({ method: "HEAD", key }, [404]);
    await response.body?.cancel();
    if (response.status === 404) return null;
    return { key, size: Number(response.headers.get("content-length") ?? 0) };
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.head(key))) return false;
    const response = await this.#call({ method: "DELETE", key });
    await response.body?.cancel();
    return true;
  }

  async *list(prefix = ""): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix: this.#prefix + prefix };
      if (token) query["continuation-token"] = token;
      const xml = await (await this.#call({ method: "GET", query })).text();
      const keys = xmlTexts(xml, "Key");
      const sizes = xmlTexts(xml, "Size");
      for (let i = 0; i < keys.length; i += 1) yield { key: keys[i]!.slice(this.#prefix.length), size: Number(sizes[i] ?? 0) };
      token = xmlText(xml, "IsTruncated") === "true" ? xmlText(xml, "NextContinuationToken") : undefined;
    } while (token);
  }

  async rename(from: string, to: string): Promise<void> {
    checkBlobKey(to);
    const source = `/${this.#options.bucket}/${uriEncode(this.#prefix + from, true)}`;
    const copied = await this.#call({ method: "PUT", key: to, headers: { "x-amz-copy-source": source } });
    checkBody(await copied.text(), "CopyObject");
    await (await this.#call({ method: "DELETE", key: from })).body?.cancel();
  }

  presign(key: string, options: PresignOptions = {}): Promise<string | null> {
    return Promise.resolve(presignUrl({
      method: options.method ?? "GET",
      url: this.#url(checkBlobKey(key)),
      credentials: this.#options.credentials,
      region: this.#region,
      expiresIn: options.expiresIn ?? 900,
    }));
  }

  #url(key?: string, query: Record<string, string> = {}): URL {
    const path = key === undefined ? "/" : `/${uriEncode(this.#prefix + key, true)}`;
    const url = new URL(this.#base);
    if (this.#virtual) {
      url.hostname = `${this.#options.bucket}.${url.hostname}`;
      url.pathname = path;
    } else {
      url.pathname = `${url.pathname.replace(/\/$/, "")}/${this.#options.bucket}${path}`;
    }
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }

  async #call(call: Call, allowed: readonly number[] = []): Promise<Response> {
    const url = this.#url(call.key, call.query);
    const body = call.body;
    const headers = signRequest({
      method: call.method,
      url,
      headers: call.headers ?? {},
      payloadHash: sha256Hex(body ?? ""),
      credentials: this.#options.credentials,
      region: this.#region,
    });
    let response: Response;
    try {
      response = await this.#fetch(url, { method: call.method, headers, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
    } catch (error) {
      throw new UnavailableError(`Blob storage (S3 ${url.host}) cannot be reached`, { cause: error });
    }
    if (response.ok || allowed.includes(response.status)) return response;
    const text = await response.text().catch(() => "");
    throw new UnavailableError(
      `Blob storage (S3 ${url.host}) answered ${response.status} ${xmlText(text, "Code") ?? ""} to ${call.method}: ${xmlText(text, "Message") ?? ""}`.trim(),
    );
  }
}

function checkBody(xml: string, operation: string): void {
  if (/<Error>/.test(xml)) {
    throw new UnavailableError(`Blob storage (S3) failed ${operation}: ${xmlText(xml, "Code") ?? ""} ${xmlText(xml, "Message") ?? ""}`.trim());
  }
}
