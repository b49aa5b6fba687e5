import { UnavailableError } from "../core/errors.ts";
import { type BlobBody, type BlobInfo, type BlobStore, type ByteRange, checkBlobKey, type PresignOptions, wholeBlob } from "./blob-store.ts";
import { pieces } from "./_streams.ts";
import { AZURE_VERSION, blobSas, sharedKeyAuthorization } from "./_azure-auth.ts";
import { xmlText, xmlTexts } from "./_xml.ts";

/** Options of {@link AzureBlobStore}. */
export interface AzureBlobStoreOptions {
  /** The storage account. */
  account: string;
  /** The account key (base64), used for Shared Key requests and SAS URLs. */
  key: string;
  /** Blob container name; {@link AzureBlobStore.createContainer} creates it when missing. */
  container: string;
  /** Prepended to every key (default none). */
  prefix?: string;
  /** The blob service URL (default `https://<account>.blob.core.windows.net`; Azurite: `http://127.0.0.1:10000/devstoreaccount1`). */
  endpoint?: string;
  /** Bytes per block of a large upload (default 8 MiB). */
  blockSize?: number;
  /** The fetch to call (default the global one). */
  fetch?: typeof fetch;
}

interface Call {
  method: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

const MIB = 1024 * 1024;

/**
 * Blobs in Azure Blob Storage (block blobs) over its REST API with Shared
 * Key authorization (no SDK). A body larger than one block goes up as
 * blocks then a block list, one block in memory at a time; downloads stream,
 * ranges included; `presign` makes service SAS URLs.
 */
export class AzureBlobStore implements BlobStore {
  /** Always `azure`. */
  readonly kind = "azure";
  readonly #options: AzureBlobStoreOptions;
  readonly #prefix: string;
  readonly #blockSize: number;
  readonly #fetch: typeof fetch;
  readonly #base: string;

  /** Opens the store (no request is made until the first call). */
  constructor(options: AzureBlobStoreOptions) {
    this.#options = options;
    this.#prefix = options.prefix ?? "";
    this.#blockSize = options.blockSize ?? 8 * MIB;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#base = (options.endpoint ?? `https://${options.account}.blob.core.windows.net`).replace(/\/$/, "");
  }

  /** Creates the container when it does not exist yet. */
  async createContainer(): Promise<void> {
    const response = await this.#call({ method: "PUT", query: { restype: "container" } }, [409]);
    await response.body?.cancel();
  }

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    checkBlobKey(key);
    const blocks = pieces(body, this.#blockSize)[Symbol.asyncIterator]();
    const first = await blocks.next();
    const second = first.done ? first : await blocks.next();
    if (second.done) {
      const bytes = first.done ? new Uint8Array(0) : first.value;
      await this.#drop(this.#call({ method: "PUT", key, headers: { "x-ms-blob-type": "BlockBlob" }, body: bytes }));
      return { key, size: bytes.byteLength };
    }
    const ids: string[] = [];
    let size = 0;
    const upload = async (bytes: Uint8Array): Promise<void> => {
      const id = btoa(`block-${String(ids.length).padStart(6, "0")}`);
      await this.#drop(this.#call({ method: "PUT", key, query: { comp: "block", blockid: id }, body: bytes }));
      ids.push(id);
      size += bytes.byteLength;
    };
    await upload(first.value!);
    await upload(second.value);
    for (let next = await blocks.next(); !next.done; next = await blocks.next()) await upload(next.value);
    const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join("")}</BlockList>`;
    await this.#drop(this.#call({ method: "PUT", key, query: { comp: "blocklist" }, body: new TextEncoder().encode(xml) }));
    return { key, size };
  }

  async get(key: string): Promise<Uint8Array | null> {
    return await wholeBlob(await this.stream(key));
  }

  async stream(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    const response = await this.#call({
      method: "GET",
      key,
      ...(range ? { headers: { "x-ms-range": `bytes=${range.start}-${range.end}` } } : {}),
    }, [404]);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  async head(key: string): Promise<BlobInfo | null> {
    const response = await this.#call({ method: "HEAD", key }, [404]);
    await response.body?.cancel();
    if (response.status === 404) return null;
    return { key, size: Number(response.headers.get("content-length") ?? 0) };
  }

  async delete(key: string): Promise<boolean> {
    const response = await this.#call({ method: "DELETE", key }, [404]);
    await response.body?.cancel();
    return response.status !== 404;
  }

  async *list(prefix = ""): AsyncIterable<BlobInfo> {
    let marker = "";
    do {
      const query: Record<string, string> = { restype: "container", comp: "list", prefix: this.#prefix + prefix };
      if (marker) query.marker = marker;
      const xml = await (await this.#call({ method: "GET", query })).text();
      const names = xmlTexts(xml, "Name");
      const sizes = xmlTexts(xml, "Content-Length");
      for (let i = 0; i < names.length; i += 1) yield { key: names[i]!.slice(this.#prefix.length), size: Number(sizes[i] ?? 0) };
      marker = xmlText(xml, "NextMarker") ?? "";
    } while (marker);
  }

  async rename(from: string, to: string): Promise<void> {
    checkBlobKey(to);
    const source = this.#url(from).toString();
    let response = await this.#call({ method: "PUT", key: to, headers: { "x-ms-copy-source": source } });
    await response.body?.cancel();
    // Copies within an account are usually done at once; otherwise wait for it.
    while (response.headers.get("x-ms-copy-status") === "pending") {
      await new Promise((resolve) => setTimeout(resolve, 200));
      response = await this.#call({ method: "HEAD", key: to });
      await response.body?.cancel();
    }
    if (response.headers.get("x-ms-copy-status") !== "success") {
      throw new UnavailableError(`Blob storage (Azure) could not copy ${from} to ${to}: ${response.headers.get("x-ms-copy-status")}`);
    }
    await this.delete(from);
  }

  presign(key: string, options: PresignOptions = {}): Promise<string | null> {
    const blob = this.#prefix + checkBlobKey(key);
    const sas = blobSas({
      account: this.#options.account,
      key: this.#options.key,
      container: this.#options.container,
      blob,
      permissions: options.method === "PUT" ? "cw" : "r",
      expiry: new Date(Date.now() + (options.expiresIn ?? 900) * 1000),
    });
    return Promise.resolve(`${this.#url(key)}?${sas}`);
  }

  #url(key?: string, query: Record<string, string> = {}): URL {
    const path = key === undefined ? "" : `/${(this.#prefix + key).split("/").map(encodeURIComponent).join("/")}`;
    const url = new URL(`${this.#base}/${this.#options.container}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }

  async #drop(call: Promise<Response>): Promise<void> {
    await (await call).body?.cancel();
  }

  async #call(call: Call, allowed: readonly number[] = []): Promise<Response> {
    const url = this.#url(call.key, call.query);
    const headers: Record<string, string> = {
      ...call.headers,
      "x-ms-date": new Date().toUTCString(),
      "x-ms-version": AZURE_VERSION,
    };
    if (call.body) headers["content-length"] = String(call.body.byteLength);
    headers.authorization = sharedKeyAuthorization({ method: call.method, url, headers, account: this.#options.account, key: this.#options.key });
    let response: Response;
    try {
      response = await this.#fetch(url, { method: call.method, headers, ...(call.body ? { body: call.body as Uint8Array<ArrayBuffer> } : {}) });
    } catch (error) {
      throw new UnavailableError(`Blob storage (Azure ${url.host}) cannot be reached`, { cause: error });
    }
    if (response.ok || allowed.includes(response.status)) return response;
    const text = await response.text().catch(() => "");
    throw new UnavailableError(
      `Blob storage (Azure ${url.host}) answered ${response.status} ${xmlText(text, "Code") ?? ""} to ${call.method}: ${xmlText(text, "Message") ?? ""}`.trim(),
    );
  }
}
