import type { Driver, Row, SqlValue } from "../../db/driver.ts";
import { SqlRepository } from "../../db/repository.ts";
import type { ArtifactPayload, StoredPayload } from "./payload.ts";

/** An artifact's payload as its row records it. */
export interface PayloadRow {
  /** Media type. */
  contentType: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the bytes in the content store; null for payloads stored inline before content addressing. */
  digest: string | null;
}
import { type ArtifactRecord, artifactsTable, searchableArtifactsTable } from "./schema.ts";

/** A row of a subtree with its distance from the subtree's top. */
export type SubtreeRecord = ArtifactRecord & { depth: number };

const COLUMNS = `a."id", a."created_at", a."updated_at", a."parent_id", a."level", a."data", a."tags"`;
// Guards the recursive queries against a cycle that a concurrent writer might have slipped in.
const MAX_DEPTH = 10000;

const DESCENDANTS = `WITH RECURSIVE sub("id", "depth") AS (
  SELECT "id", 1 FROM "artifacts" WHERE "parent_id" = ?
  UNION ALL
  SELECT c."id", sub."depth" + 1 FROM "artifacts" c JOIN sub ON c."parent_id" = sub."id" WHERE sub."depth" < ${MAX_DEPTH}
) SELECT "id" FROM sub`;

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value as ArrayBuffer);
}

/**
 * Where artifacts live: the `artifacts` table (hierarchy by `parent_id`) and
 * `artifact_payloads` (at most one binary payload per artifact). Subtree
 * queries are recursive CTEs, the same SQL on SQLite and PostgreSQL.
 */
export class ArtifactStore extends SqlRepository<ArtifactRecord> {
  /** Opens the store on a migrated database (`searchable`: the table has its search index, so `q=` works). */
  constructor(db: Driver, options: { searchable?: boolean } = {}) {
    super(db, options.searchable ? searchableArtifactsTable : artifactsTable);
  }

  /** The artifact and all its descendants, top first, then by depth and ascending id. */
  async subtree(id: string): Promise<SubtreeRecord[]> {
    const rows = await this.db.query(
      `WITH RECURSIVE sub("id", "depth") AS (
        SELECT "id", 0 FROM "artifacts" WHERE "id" = ?
        UNION ALL
        SELECT c."id", sub."depth" + 1 FROM "artifacts" c JOIN sub ON c."parent_id" = sub."id" WHERE sub."depth" < ${MAX_DEPTH}
      ) SELECT ${COLUMNS}, sub."depth" AS "depth" FROM sub JOIN "artifacts" a ON a."id" = sub."id" ORDER BY sub."depth", a."id"`,
      [id],
    );
    return rows.map((row: Row) => ({ ...this.decode(row), depth: Number(row.depth) }));
  }

  /** The ids from the artifact up to its root: `[id, parent, …, root]` (empty when unknown). */
  async pathToRoot(id: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string; depth: number }>(
      `WITH RECURSIVE up("id", "parent_id", "depth") AS (
        SELECT "id", "parent_id", 0 FROM "artifacts" WHERE "id" = ?
        UNION ALL
        SELECT p."id", p."parent_id", up."depth" + 1 FROM "artifacts" p JOIN up ON p."id" = up."parent_id" WHERE up."depth" < ${MAX_DEPTH}
      ) SELECT "id", "depth" FROM up ORDER BY "depth"`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /** The ids of every descendant of the artifact (not itself). */
  async descendantIds(id: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(DESCENDANTS, [id]);
    return rows.map((row) => row.id);
  }

  /** Adds `delta` to the level of every descendant of the artifact; returns how many changed. */
  async shiftDescendantLevels(id: string, delta: number): Promise<number> {
    if (delta === 0) return 0;
    const { changes } = await this.db.exec(
      `UPDATE "artifacts" SET "level" = "level" + ?, "updated_at" = ? WHERE "id" IN (${DESCENDANTS})`,
      [delta, new Date().toISOString(), id],
    );
    return changes;
  }

  /** Makes the artifact's children roots (`parent_id` null); their levels are not touched. */
  async detachChildren(id: string): Promise<number> {
    const { changes } = await this.db.exec(
      `UPDATE "artifacts" SET "parent_id" = NULL, "updated_at" = ? WHERE "parent_id" = ?`,
      [new Date().toISOString(), id],
    );
    return changes;
  }

  /**
   * Records the artifact's payload as stored content (or replaces it);
   * answers the digest it replaced, if any, so its reference can be released.
   */
  async putPayloadContent(id: string, content: StoredPayload): Promise<string | null> {
    const previous = await this.payloadRow(id);
    await this.db.exec(
      `INSERT INTO "artifact_payloads" ("artifact_id", "content_type", "size", "bytes", "digest") VALUES (?, ?, ?, ?, ?)
       ON CONFLICT ("artifact_id") DO UPDATE SET "content_type" = excluded."content_type", "size" = excluded."size", "bytes" = excluded."bytes", "digest" = excluded."digest"`,
      [id, content.contentType, content.size, new Uint8Array(0), content.digest],
    );
    return previous?.digest ?? null;
  }

  /** The payload's row: content type, size, digest (null for payloads stored before content addressing), or null when none. */
  async payloadRow(id: string): Promise<PayloadRow | null> {
    const rows = await this.db.query<{ content_type: string; size: number | string; digest: string | null }>(
      `SELECT "content_type", "size", "digest" FROM "artifact_payloads" WHERE "artifact_id" = ?`,
      [id],
    );
    const row = rows[0];
    return row ? { contentType: row.content_type, size: Number(row.size), digest: row.digest ?? null } : null;
  }

  /** The bytes of a payload stored before content addressing (inline in `artifact_payloads`), or null. */
  async legacyPayload(id: string): Promise<ArtifactPayload | null> {
    const rows = await this.db.query<{ content_type: string; bytes: unknown }>(
      `SELECT "content_type", "bytes" FROM "artifact_payloads" WHERE "artifact_id" = ?`,
      [id],
    );
    const row = rows[0];
    return row ? { bytes: toBytes(row.bytes), contentType: row.content_type } : null;
  }

  /** The content digests the payloads of these artifacts hold (for releasing them when the artifacts go). */
  async payloadDigests(ids: readonly string[]): Promise<string[]> {
    const digests: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const rows = await this.db.query<{ digest: string }>(
        `SELECT "digest" FROM "artifact_payloads" WHERE "digest" IS NOT NULL AND "artifact_id" IN (${batch.map(() => "?").join(", ")})`,
        batch,
      );
      digests.push(...rows.map((row) => row.digest));
    }
    return digests;
  }
}

/** Opens the artifact store on a database (the `artifacts` migrations must have run). */
export function createArtifactStore(db: Driver, options: { searchable?: boolean } = {}): ArtifactStore {
  return new ArtifactStore(db, options);
}
