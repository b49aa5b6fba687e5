import { ConflictError, type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import { Manager, type ManagerEvents, type ManagerWriteOptions, type SaveResult } from "../../core/manager.ts";
import type { WriteCondition } from "../../core/repository.ts";
import { parseTags } from "../../core/tags.ts";
import { isUlid } from "../../core/ulid.ts";
import type { ByteRange } from "../../storage/blob-store.ts";
import { ContentStore } from "../../storage/content-store.ts";
import { DatabaseBlobStore } from "../../storage/database-blob-store.ts";
import {
  type ArtifactPayload,
  type PayloadInput,
  type PayloadStream,
  payloadPlaceholder,
  type StoredPayload,
  substituteMarkers,
} from "./payload.ts";
import {
  type ArtifactHierarchy,
  type ArtifactIn,
  ArtifactInSchema,
  type ArtifactOut,
  ArtifactOutSchema,
  type ArtifactRecord,
  type ArtifactTreeNode,
  type LinkedConfig,
} from "./schema.ts";
import type { ArtifactStore } from "./store.ts";
import { buildTree, toArtifactOut, toTaggedArtifactOut, treeNode } from "./tree.ts";
import { sha256HexOfBytes } from "../../runtime/digest.ts";

/** What the artifact manager needs to know about config links (set when linking is enabled). */
export interface ArtifactConfigLinks {
  /** The config linked directly to this artifact, or null. */
  linkedConfig(artifactId: string): Promise<LinkedConfig | null>;
}

/** How an {@link ArtifactManager} is made. */
export interface ArtifactManagerOptions {
  /** Where artifacts live. */
  store: ArtifactStore;
  /** The hierarchy `$expand` and `$tree` describe nodes with. */
  hierarchy: ArtifactHierarchy;
  /** Called after each write with the artifact's size in bytes (JSON `data` plus payload), e.g. for metrics. */
  onStored?: (bytes: number) => void;
  /** Accept and answer `tags` (the chap profile's `ArtifactOut`: `id, created_at, updated_at, tags, data, parent_id, level`). */
  tags?: boolean;
  /** Publishes `entity.*` events of committed writes (collection `artifacts`). */
  events?: ManagerEvents;
  /** Where payload bytes go (default: content-addressed in the store's own database). */
  content?: ContentStore;
}

const encoder = new TextEncoder();

/** Options of {@link ArtifactManager.delete}. */
export interface ArtifactDeleteOptions extends ManagerWriteOptions {
  /** Delete the whole subtree (default true); false detaches the children and recomputes their levels. */
  cascade?: boolean;
}


function ulidField(source: Record<string, unknown>, key: string, loc: (string | number)[], errors: FieldError[]): void {
  const value = source[key];
  if (value === undefined || value === null) return;
  if (typeof value !== "string") {
    errors.push({ loc: [...loc, key], msg: "Input should be a valid string", type: "string_type" });
  } else if (!isUlid(value)) {
    errors.push({ loc: [...loc, key], msg: "Unrecognized format", type: "ulid_format" });
  }
}

/**
 * Artifacts: a tree of JSON documents, each with at most one binary payload
 * (contract §8 with decisions). Levels are computed by the server and kept
 * consistent on moves; cycles are refused; deleting removes the subtree
 * unless asked to detach the children.
 *
 * @example
 * ```ts ignore
 * const model = await artifacts.create(
 *   { data: { ml_type: "trained_model", config_id, model: PAYLOAD_MARKER } },
 *   { bytes, contentType: "application/onnx" },
 * );
 * const { bytes } = await artifacts.download(model.id);
 * ```
 */
export class ArtifactManager extends Manager<ArtifactRecord, ArtifactInSchema, ArtifactOutSchema> {
  /** The artifact store. */
  readonly store: ArtifactStore;
  /** The hierarchy nodes are described with. */
  readonly hierarchy: ArtifactHierarchy;
  /** Whether artifacts carry `tags` (chap profile). */
  readonly tags: boolean;
  /** The content store payloads live in (content-addressed, reference-counted). */
  readonly content: ContentStore;
  #links: ArtifactConfigLinks | null = null;
  readonly #onStored: ((bytes: number) => void) | undefined;

  /** Creates the manager over a store and a hierarchy. */
  constructor(options: ArtifactManagerOptions) {
    const out = options.tags ? toTaggedArtifactOut : toArtifactOut;
    super({
      repository: options.store,
      // Both profiles document the seed view (one `ArtifactOut` component); `toOutput` adds the chap view's `tags`.
      input: ArtifactInSchema,
      output: ArtifactOutSchema,
      toOutput: out,
      ...(options.events ? { events: options.events } : {}),
    });
    this.store = options.store;
    this.hierarchy = options.hierarchy;
    this.#onStored = options.onStored;
    this.tags = options.tags === true;
    this.#out = out;
    this.content = options.content ?? new ContentStore({ db: options.store.db, blobs: new DatabaseBlobStore(options.store.db) });
  }

  #stored(data: unknown, payload?: StoredPayload): void {
    if (!this.#onStored) return;
    this.#onStored(encoder.encode(JSON.stringify(data) ?? "").byteLength + (payload?.size ?? 0));
  }

  /**
   * Puts payload bytes in the content store, streamed, ahead of the artifact
   * that will hold them (pass the result to {@link ArtifactManager.save}).
   * Stored content nobody holds is collected after the grace period.
   */
  async storeContent(body: Uint8Array | ReadableStream<Uint8Array>, contentType: string): Promise<StoredPayload> {
    const ref = await this.content.put(body, { contentType });
    return { ...ref, contentType };
  }

  async #storeInput(payload: PayloadInput): Promise<StoredPayload> {
    return "bytes" in payload ? this.storeContent(payload.bytes, payload.contentType) : payload;
  }

  readonly #out: (record: ArtifactRecord) => ArtifactOut;

  /** Connects config links, so trees show linked configs and linked roots cannot be moved. */
  useConfigLinks(links: ArtifactConfigLinks): void {
    this.#links = links;
  }

  /**
   * Validates an artifact body: `data` any JSON value but null (required),
   * `id` and `parent_id` ULIDs (`parent_id` may be null); `level` and other
   * keys are ignored.
   */
  override parse(body: unknown, loc: (string | number)[] = ["body"]): ArtifactIn {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
    }
    const source = body as Record<string, unknown>;
    const errors: FieldError[] = [];
    ulidField(source, "id", loc, errors);
    if (source.data === undefined) errors.push({ loc: [...loc, "data"], msg: "Field required", type: "missing" });
    if (source.data === null) errors.push({ loc: [...loc, "data"], msg: "Input should not be null", type: "null_not_allowed" });
    ulidField(source, "parent_id", loc, errors);
    if (errors.length > 0) throw new ValidationError(errors);
    const input: ArtifactIn = { data: source.data };
    if (typeof source.id === "string") input.id = source.id;
    if (source.parent_id !== undefined) input.parent_id = source.parent_id as string | null;
    if (this.tags && source.tags !== undefined) input.tags = parseTags(source.tags, [...loc, "tags"]);
    return input;
  }

  /**
   * Creates an artifact, or updates the one whose id the body names (then
   * with {@link ArtifactManager.update} semantics). With a payload, its bytes
   * are stored and every {@link PAYLOAD_MARKER} inside `data` becomes the
   * payload's placeholder.
   *
   * @throws {ValidationError} bad body; {@link NotFoundError} unknown parent;
   * {@link ConflictError} a move that would make a cycle.
   */
  override async save(body: unknown, payload?: PayloadInput): Promise<SaveResult<ArtifactOut>> {
    const input = this.parse(body);
    const stored = payload ? await this.#storeInput(payload) : undefined;
    if (stored) input.data = substituteMarkers(input.data, payloadPlaceholder(stored.size, stored.contentType));
    const result = await this.store.transaction(async () => {
      const existing = input.id === undefined ? null : await this.store.findById(input.id);
      const record = existing ? await this.#change(existing, input) : await this.#insert(input);
      if (stored) {
        await this.content.retain(stored.digest);
        const replaced = await this.store.putPayloadContent(record.id, stored);
        if (replaced) await this.content.release(replaced);
      }
      const output = this.#out(record);
      await this.emit(existing ? "entity.updated" : "entity.created", [record], [output]);
      return { output, created: existing === null };
    });
    this.#stored(input.data, stored);
    return result;
  }

  /** Creates an artifact (see {@link ArtifactManager.save}), optionally holding a binary payload. */
  override async create(body: unknown, payload?: PayloadInput): Promise<ArtifactOut> {
    return (await this.save(body, payload)).output;
  }

  /**
   * Replaces the artifact's `data`; `parent_id` moves it (null detaches it,
   * absent keeps it). Levels of the whole subtree follow.
   *
   * @throws {NotFoundError} unknown artifact or parent; {@link ConflictError}
   * moving it under itself or a descendant, or moving a linked root.
   */
  override async update(id: string, body: unknown, options: ManagerWriteOptions = {}): Promise<ArtifactOut> {
    const input = this.parse(body);
    return this.store.transaction(async () => {
      const record = await this.#change(await this.require(id), input, options.condition);
      const output = this.#out(record);
      await this.emit("entity.updated", [record], [output]);
      return output;
    });
  }

  /**
   * Deletes the artifact with its subtree, or with `cascade: false` only the
   * artifact, its children becoming roots (levels recomputed). Links and
   * payloads of deleted artifacts go with them.
   *
   * @throws {NotFoundError} unknown artifact.
   */
  override async delete(id: string, options: ArtifactDeleteOptions = {}): Promise<void> {
    await this.store.transaction(async () => {
      const record = await this.require(id);
      if (options.condition) await this.store.claim(id, options.condition);
      const ids = options.cascade === false ? [id] : [id, ...(await this.store.descendantIds(id))];
      for (const digest of await this.store.payloadDigests(ids)) await this.content.release(digest);
      if (options.cascade === false) {
        await this.store.shiftDescendantLevels(id, -(record.level + 1));
        await this.store.detachChildren(id);
        await this.store.delete(id);
        await this.emit("entity.deleted", [record]);
      } else if (this.publishesEvents) {
        const subtree = await this.store.subtree(id);
        await this.store.deleteMany(subtree.map((node) => node.id));
        await this.emit("entity.deleted", subtree);
      } else {
        await this.store.deleteMany(ids);
      }
    });
  }

  /** The artifact with its hierarchy metadata and `children: null` (`$expand`). @throws {NotFoundError} */
  async expand(id: string): Promise<ArtifactTreeNode> {
    const record = await this.store.findById(id);
    if (!record) throw new NotFoundError(`Artifact with id ${id} not found`);
    return treeNode(record, this.hierarchy, null, await this.#configOf(id), this.#out);
  }

  /** The artifact's subtree, children in ascending id order, leaves `[]` (`$tree`). @throws {NotFoundError} */
  async tree(id: string): Promise<ArtifactTreeNode> {
    const node = buildTree(await this.store.subtree(id), this.hierarchy, null, this.#out);
    if (!node) throw new NotFoundError(`Artifact with id ${id} not found`);
    node.config = await this.#configOf(id);
    return node;
  }

  /** The artifact's binary payload, whole in memory (large ones: {@link ArtifactManager.open}). @throws {NotFoundError} unknown artifact, or one without payload. */
  async download(id: string): Promise<ArtifactPayload> {
    const row = await this.#payloadRow(id);
    if (row.digest === null) return (await this.store.legacyPayload(id))!;
    return { bytes: await this.content.bytes(row.digest), contentType: row.contentType };
  }

  /** The artifact's payload metadata (media type, size, digest) without its bytes, or null when it has none. @throws {NotFoundError} unknown artifact. */
  async payloadInfo(id: string): Promise<StoredPayload | null> {
    if (!(await this.store.exists(id))) throw new NotFoundError(`Artifact with id ${id} not found`);
    const row = await this.store.payloadRow(id);
    if (!row) return null;
    if (row.digest !== null) return { digest: row.digest, size: row.size, contentType: row.contentType };
    const legacy = (await this.store.legacyPayload(id))!;
    return { digest: await sha256HexOfBytes(legacy.bytes), size: row.size, contentType: row.contentType };
  }

  /**
   * Opens the artifact's payload for streaming, whole or a byte range (both
   * ends inclusive, within the payload: check against `payloadInfo` first).
   * @throws {NotFoundError} unknown artifact, or one without payload.
   */
  async open(id: string, range?: ByteRange): Promise<PayloadStream> {
    const row = await this.#payloadRow(id);
    if (row.digest !== null) {
      return { contentType: row.contentType, size: row.size, digest: row.digest, stream: await this.content.stream(row.digest, range) };
    }
    const legacy = (await this.store.legacyPayload(id))!;
    const bytes = range ? legacy.bytes.subarray(range.start, range.end + 1) : legacy.bytes;
    return {
      contentType: row.contentType,
      size: row.size,
      digest: await sha256HexOfBytes(legacy.bytes),
      stream: new ReadableStream({ start: (controller) => (controller.enqueue(bytes), controller.close()) }),
    };
  }

  async #payloadRow(id: string): Promise<{ contentType: string; size: number; digest: string | null }> {
    if (!(await this.store.exists(id))) throw new NotFoundError(`Artifact with id ${id} not found`);
    const row = await this.store.payloadRow(id);
    if (!row) throw new NotFoundError(`Artifact ${id} has no binary content`);
    return row;
  }

  /** The artifact's ids up to its root: `[id, parent, …, root]`; empty when unknown. */
  pathToRoot(id: string): Promise<string[]> {
    return this.store.pathToRoot(id);
  }

  #configOf(id: string): Promise<LinkedConfig | null> {
    return this.#links ? this.#links.linkedConfig(id) : Promise.resolve(null);
  }

  async #levelUnder(parentId: string | null): Promise<number> {
    if (parentId === null) return 0;
    const parent = await this.store.findById(parentId);
    if (!parent) throw new NotFoundError(`Parent artifact ${parentId} not found`);
    return parent.level + 1;
  }

  async #insert(input: ArtifactIn): Promise<ArtifactRecord> {
    const parentId = input.parent_id ?? null;
    const level = await this.#levelUnder(parentId);
    const values = this.tags
      ? { data: input.data, parent_id: parentId, level, tags: input.tags ?? [] }
      : { data: input.data, parent_id: parentId, level };
    return this.store.insert(input.id === undefined ? values : { ...values, id: input.id });
  }

  async #change(existing: ArtifactRecord, input: ArtifactIn, condition?: WriteCondition): Promise<ArtifactRecord> {
    const parentId = input.parent_id === undefined ? existing.parent_id : input.parent_id;
    if (parentId !== existing.parent_id && parentId !== null) {
      const path = await this.store.pathToRoot(parentId);
      if (path.length === 0) throw new NotFoundError(`Parent artifact ${parentId} not found`);
      if (path.includes(existing.id)) {
        throw new ConflictError(`Cannot move artifact ${existing.id} under ${parentId}: that is the artifact itself or one of its descendants`);
      }
      const linked = existing.parent_id === null ? await this.#configOf(existing.id) : null;
      if (linked) {
        throw new ConflictError(`Artifact ${existing.id} is linked to config ${linked.id}; only root artifacts can be linked, unlink it before moving it`);
      }
    }
    const level = await this.#levelUnder(parentId);
    const values = input.tags === undefined ? { data: input.data, parent_id: parentId, level } : { data: input.data, parent_id: parentId, level, tags: input.tags };
    const record = await this.store.update(existing.id, values, condition);
    if (!record) throw new NotFoundError(`Entity with id ${existing.id} not found`);
    await this.store.shiftDescendantLevels(existing.id, level - existing.level);
    return record;
  }
}
