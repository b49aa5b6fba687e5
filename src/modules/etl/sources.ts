// Reading a pipeline's source: what it holds now, and whether that changed since the last completed run.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { type FieldError, UnavailableError, ValidationError } from "../../core/errors.ts";
import { S3BlobStore } from "../../storage/s3-blob-store.ts";
import type { EtlFormat, EtlSource } from "./schema.ts";

/** One file of a source: its name (URL, path or object key) and a way to stream it. */
export interface SourceObject {
  name: string;
  open(): Promise<ReadableStream<Uint8Array>>;
}

/** What a source holds now. */
export type SourceState =
  | { unchanged: true; fingerprint: string }
  | { unchanged: false; fingerprint: string; objects: SourceObject[]; keys: string[] };

/** What {@link readSource} needs besides the source. */
export interface ReadSourceOptions {
  /** The fingerprint of the last completed run, or null. */
  previous: string | null;
  /** Read even when the source looks unchanged. */
  force: boolean;
  /** S3: which of these keys were loaded before. */
  loaded(keys: readonly string[]): Promise<Set<string>>;
  /** S3 keys when the URL names none (the `storage.*` settings). */
  credentials?: { accessKeyId?: string | undefined; secretAccessKey?: string | undefined };
  /** Aborts a fetch or a listing. */
  signal: AbortSignal;
  /** Milliseconds an HTTP source may take to answer (default 30 000). */
  timeoutMs?: number;
}

/** A source that cannot be read now (down, missing, refused): the run fails and the job policy retries it. */
export class SourceError extends UnavailableError {}

/** The format a file's name implies (`.csv`, `.ndjson`/`.jsonl`, `.json`, `.xlsx`), or null. */
export function formatOf(name: string): EtlFormat | null {
  const path = name.replace(/[?#].*$/, "").toLowerCase();
  if (path.endsWith(".csv")) return "csv";
  if (path.endsWith(".ndjson") || path.endsWith(".jsonl")) return "ndjson";
  if (path.endsWith(".json")) return "json";
  if (path.endsWith(".xlsx")) return "xlsx";
  return null;
}

/** The bucket, prefix and connection of an `s3://bucket/prefix/?endpoint=…&region=…&style=…` URL. @throws {ValidationError} */
export function parseS3Url(raw: string, loc: (string | number)[] = ["body", "source", "url"]): {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region?: string;
  style?: "path" | "virtual";
} {
  const bad = (msg: string) => new ValidationError([{ loc, msg, type: "value_error" }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad("Input should be an s3://bucket/prefix URL");
  }
  if (url.protocol !== "s3:" || !url.hostname) throw bad("Input should be an s3://bucket/prefix URL");
  if (url.password || url.username) throw bad("The URL must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  const style = url.searchParams.get("style");
  if (style !== null && style !== "path" && style !== "virtual") throw bad("style must be path or virtual");
  const endpoint = url.searchParams.get("endpoint");
  const region = url.searchParams.get("region");
  return {
    bucket: url.hostname,
    prefix: decodeURIComponent(url.pathname).replace(/^\/+/, ""),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(style ? { style } : {}),
  };
}

/** A source's problems beyond its schema (URL scheme, absolute path, S3 URL), as field errors; none when it is fine. */
export function checkSource(source: EtlSource): FieldError[] {
  const loc = ["body", "source"];
  if (source.kind === "http") {
    let url: URL | undefined;
    try {
      url = new URL(source.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return [{ loc: [...loc, "url"], msg: "Input should be an http or https URL", type: "url_scheme" }];
    }
  } else if (source.kind === "file") {
    if (!source.path.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(source.path)) {
      return [{ loc: [...loc, "path"], msg: "Input should be an absolute path", type: "value_error" }];
    }
  } else {
    try {
      parseS3Url(source.url, [...loc, "url"]);
    } catch (error) {
      if (error instanceof ValidationError) return error.errors;
      throw error;
    }
  }
  return [];
}

function bytes(body: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
}

/** An error's message, with its cause's when that adds something (`fetch failed (connect ECONNREFUSED …)`). */
export function reason(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && cause.message && !message.includes(cause.message) ? `${message} (${cause.message})` : message;
}

async function httpState(source: Extract<EtlSource, { kind: "http" }>, options: ReadSourceOptions): Promise<SourceState> {
  const headers = new Headers(source.headers ?? {});
  const previous = options.force ? null : options.previous;
  if (previous?.startsWith("etag:")) headers.set("if-none-match", previous.slice(5));
  if (previous?.startsWith("last-modified:")) headers.set("if-modified-since", previous.slice(14));
  let response: Response;
  try {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)]);
    response = await fetch(source.url, { headers, signal, redirect: "follow" });
  } catch (error) {
    throw new SourceError(`Source ${source.url} cannot be reached: ${reason(error)}`, { cause: error });
  }
  if (response.status === 304 && previous) return { unchanged: true, fingerprint: previous };
  if (!response.ok) {
    await response.body?.cancel();
    throw new SourceError(`Source ${source.url} answered ${response.status} ${response.statusText}`.trim());
  }
  const etag = response.headers.get("etag");
  const modified = response.headers.get("last-modified");
  // A validator the server gives is enough; otherwise the body's hash says whether it changed.
  let fingerprint = etag ? `etag:${etag}` : modified ? `last-modified:${modified}` : null;
  if (fingerprint && fingerprint === previous) {
    await response.body?.cancel();
    return { unchanged: true, fingerprint };
  }
  let body: Uint8Array | undefined;
  if (!fingerprint) {
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new SourceError(`Source ${source.url} broke off: ${reason(error)}`, { cause: error });
    }
    fingerprint = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (fingerprint === previous) return { unchanged: true, fingerprint };
  }
  let opened = false;
  const object: SourceObject = {
    name: source.url,
    open: () => {
      if (opened) throw new Error("An HTTP source is read once");
      opened = true;
      return Promise.resolve(body ? bytes(body) : response.body ?? bytes(new Uint8Array(0)));
    },
  };
  return { unchanged: false, fingerprint, objects: [object], keys: [] };
}

/** A file's bytes as a stream of 64 KiB chunks (opened on the first read, closed at the end or on cancel). */
export function fileStream(path: string): ReadableStream<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  return new ReadableStream({
    async pull(controller) {
      handle ??= await open(path, "r");
      const buffer = new Uint8Array(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) {
        await handle.close();
        controller.close();
      } else {
        controller.enqueue(buffer.subarray(0, bytesRead));
      }
    },
    async cancel() {
      await handle?.close();
    },
  });
}

async function fileState(source: Extract<EtlSource, { kind: "file" }>, options: ReadSourceOptions): Promise<SourceState> {
  let info;
  try {
    info = await stat(source.path);
  } catch (error) {
    throw new SourceError(`Source file ${source.path} cannot be read: ${reason(error)}`, { cause: error });
  }
  if (!info.isFile()) throw new SourceError(`Source ${source.path} is not a file`);
  const fingerprint = `file:${info.size}:${new Date(info.mtimeMs).toISOString()}`;
  if (!options.force && fingerprint === options.previous) return { unchanged: true, fingerprint };
  return { unchanged: false, fingerprint, objects: [{ name: source.path, open: () => Promise.resolve(fileStream(source.path)) }], keys: [] };
}

async function s3State(source: Extract<EtlSource, { kind: "s3" }>, options: ReadSourceOptions): Promise<SourceState> {
  const { bucket, prefix, ...connection } = parseS3Url(source.url, ["source", "url"]);
  const { accessKeyId, secretAccessKey } = options.credentials ?? {};
  if (!accessKeyId || !secretAccessKey) {
    throw new SourceError(`Source ${source.url} needs S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  const store = new S3BlobStore({ bucket, credentials: { accessKeyId, secretAccessKey }, ...connection });
  const keys: string[] = [];
  try {
    for await (const info of store.list(prefix)) {
      if (!info.key.endsWith("/")) keys.push(info.key);
      options.signal.throwIfAborted();
    }
  } catch (error) {
    if (error instanceof Error) {
      throw new SourceError(`Source ${source.url} cannot be listed: ${reason(error)}`, { cause: error });
    }
    throw error;
  }
  keys.sort();
  const loaded = options.force ? new Set<string>() : await options.loaded(keys);
  const fresh = keys.filter((key) => !loaded.has(key));
  if (fresh.length === 0) return { unchanged: true, fingerprint: options.previous ?? `s3:${keys.length} objects, none new` };
  const shown = fresh.slice(0, 20).join(", ") + (fresh.length > 20 ? `, … (${fresh.length - 20} more)` : "");
  return {
    unchanged: false,
    fingerprint: `s3:${fresh.length} new: ${shown}`,
    keys: fresh,
    objects: fresh.map((key) => ({
      name: key,
      open: async () => {
        let body: ReadableStream<Uint8Array> | null;
        try {
          body = await store.stream(key);
        } catch (error) {
          throw new SourceError(`Source object ${key} cannot be read: ${reason(error)}`, { cause: error });
        }
        if (!body) throw new SourceError(`Source object ${key} disappeared while the run read it`);
        return body;
      },
    })),
  };
}

/**
 * What the source holds now and its fingerprint, or `unchanged` when it is
 * what the last completed run loaded (same ETag or Last-Modified, same
 * hash of the body, same size and mtime, no new S3 object).
 *
 * @throws {SourceError} a source that cannot be reached or read.
 */
export function readSource(source: EtlSource, options: ReadSourceOptions): Promise<SourceState> {
  switch (source.kind) {
    case "http":
      return httpState(source, options);
    case "file":
      return fileState(source, options);
    case "s3":
      return s3State(source, options);
  }
}
