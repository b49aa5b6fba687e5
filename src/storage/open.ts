import { ConfigurationError } from "../core/errors.ts";
import type { Settings } from "../core/settings/schema.ts";
import type { Driver } from "../db/driver.ts";
import { AzureBlobStore } from "./azure-blob-store.ts";
import type { BlobStore } from "./blob-store.ts";
import { DatabaseBlobStore } from "./database-blob-store.ts";
import { FileBlobStore } from "./file-blob-store.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

/** What {@link openBlobStore} needs besides the URL. */
export interface OpenBlobStoreOptions {
  /** The service's database (the `db:` backend). */
  db: Driver;
  /** Credentials from settings, used when the URL carries none. */
  settings?: Partial<Settings["storage"]>;
  /** The fetch S3 and Azure call (default the global one). */
  fetch?: typeof fetch;
}

function prefixOf(url: URL): string {
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, "");
  return path === "" || path.endsWith("/") ? path : `${path}/`;
}

function bad(url: string, why: string): ConfigurationError {
  return new ConfigurationError(`storage.url (CHAPKIT_STORAGE_URL) ${why}: ${url.replace(/\/\/[^@/]*@/, "//***@")}`);
}

/**
 * Opens the blob backend a `storage.url` names:
 *
 * - `db:` the service's database (default);
 * - `file:///var/lib/chapkit/blobs` a directory;
 * - `s3://bucket/prefix?endpoint=http://minio:9000&region=eu-west-1&style=path`
 *   S3 or an S3-compatible service (GCS: `endpoint=https://storage.googleapis.com`
 *   with HMAC keys); keys from `storage.accessKeyId` / `storage.secretAccessKey`;
 * - `azure://container/prefix?account=NAME&endpoint=…` Azure Blob Storage; the
 *   account key from `storage.azureAccountKey`.
 *
 * @throws {ConfigurationError} unknown scheme, missing bucket or credentials.
 */
export function openBlobStore(raw: string, options: OpenBlobStoreOptions): BlobStore {
  if (raw === "db:" || raw === "db" || raw === "database:") return new DatabaseBlobStore(options.db);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad(raw, "is not a URL");
  }
  // storage.url is shown by `chapkit config`: secrets belong in their own (masked) settings.
  if (url.password) throw bad(raw, "must not carry a secret: set AWS_SECRET_ACCESS_KEY or AZURE_STORAGE_KEY instead");
  const query = url.searchParams;
  const fetcher = options.fetch ? { fetch: options.fetch } : {};
  switch (url.protocol) {
    case "file:":
      return new FileBlobStore(decodeURIComponent(url.pathname));
    case "s3:": {
      const accessKeyId = decodeURIComponent(url.username) || options.settings?.accessKeyId;
      const secretAccessKey = options.settings?.secretAccessKey;
      if (!url.hostname) throw bad(raw, "names no bucket");
      if (!accessKeyId || !secretAccessKey) throw bad(raw, "needs credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
      const style = query.get("style");
      if (style !== null && style !== "path" && style !== "virtual") throw bad(raw, "style must be path or virtual");
      return new S3BlobStore({
        bucket: url.hostname,
        prefix: prefixOf(url),
        credentials: { accessKeyId, secretAccessKey },
        ...(query.get("endpoint") ? { endpoint: query.get("endpoint")! } : {}),
        ...(query.get("region") ? { region: query.get("region")! } : {}),
        ...(style ? { style } : {}),
        ...fetcher,
      });
    }
    case "azure:": {
      const account = decodeURIComponent(url.username) || query.get("account");
      const key = options.settings?.azureAccountKey;
      if (!url.hostname) throw bad(raw, "names no container");
      if (!account || !key) throw bad(raw, "needs the account (?account= or NAME@) and its key (AZURE_STORAGE_KEY)");
      return new AzureBlobStore({
        account,
        key,
        container: url.hostname,
        prefix: prefixOf(url),
        ...(query.get("endpoint") ? { endpoint: query.get("endpoint")! } : {}),
        ...fetcher,
      });
    }
    default:
      throw bad(raw, "has an unknown scheme (use db:, file:, s3: or azure:)");
  }
}
