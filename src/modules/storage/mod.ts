/**
 * The service's payload storage, shared by every module that stores bytes:
 * the blob backend `storage.url` (`CHAPKIT_STORAGE_URL`) names and the
 * content-addressed {@link ContentStore} over it. The backends themselves
 * live in `src/storage/` (no HTTP, no service); this folder only binds them
 * to a running service.
 *
 * @module
 */
import type { ServiceContext } from "../../http/module.ts";
import { ContentStore } from "../../storage/content-store.ts";
import { openBlobStore } from "../../storage/open.ts";
import { ResumableUploads } from "../../storage/resumable-uploads.ts";

/** The key the service's {@link ContentStore} is provided under. */
export const CONTENT_STORE_KEY = "content-store";

/**
 * The service's content store, opened from the settings on first use and
 * shared from then on (modules that hold payloads list `storageMigrations`
 * among their migrations; artifacts do).
 *
 * @throws {ConfigurationError} a bad `storage.url`.
 */
export function contentStoreOf(context: ServiceContext): ContentStore {
  if (context.has(CONTENT_STORE_KEY)) return context.get<ContentStore>(CONTENT_STORE_KEY);
  const settings = context.settings.storage;
  const content = new ContentStore({
    db: context.db,
    blobs: openBlobStore(settings.url, { db: context.db, settings }),
    compression: settings.compression,
  });
  context.provide(CONTENT_STORE_KEY, content);
  return content;
}

const UPLOADS_KEY = "resumable-uploads";

/** The service's resumable (tus) uploads, kept in the same backend as the content until they finish. */
export function resumableUploadsOf(context: ServiceContext): ResumableUploads {
  if (context.has(UPLOADS_KEY)) return context.get<ResumableUploads>(UPLOADS_KEY);
  const uploads = new ResumableUploads({ db: context.db, blobs: contentStoreOf(context).blobs });
  context.provide(UPLOADS_KEY, uploads);
  return uploads;
}
