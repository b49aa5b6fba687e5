import { NotFoundError } from "../../core/errors.ts";
import { rangedResponse } from "../../http/ranged-download.ts";
import type { ArtifactManager } from "./manager.ts";

/**
 * The artifact's payload as a download: streamed, with its digest as `ETag`,
 * `If-None-Match` and `Range` honoured.
 *
 * @throws {NotFoundError} unknown artifact, or one without payload.
 */
export async function payloadResponse(manager: ArtifactManager, id: string, request: Request, disposition: string, contentType?: string): Promise<Response> {
  const info = await manager.payloadInfo(id);
  if (!info) throw new NotFoundError(`Artifact ${id} has no binary content`);
  return rangedResponse(request, {
    size: info.size,
    etag: `"${info.digest}"`,
    contentType: contentType ?? info.contentType,
    disposition,
    open: async (range) => (await manager.open(id, range)).stream,
  });
}

