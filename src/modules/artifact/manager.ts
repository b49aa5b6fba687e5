import { ConflictError, type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import { Manager, type ManagerEvents, type ManagerWriteOptions, type SaveResult } from "../../core/manager.ts";
import type { WriteCondition } from "../../core/repository.ts";
import { parseTags } from "../../core/tags.ts";
import { isUlid } from "../../core/ulid.ts";
import { type ArtifactPayload, payloadPlaceholder, substituteMarkers } from "./payload.ts";
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
  #links: ArtifactConfigLinks | null = null;
  readonly #onStored: ((bytes: number) => void) | undefined;

  /** Creates the manager over a store and a hierarchy. */
  constructor(options: ArtifactManagerOptions) {
    const out = options.tags ? toTaggedArtifactOut : toArtifactOut;
    super({
      repository: options.store,
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
  }

  #stored(data: unknown, payload?: ArtifactPayload): void {
    if (!this.#onStored) return;
    this.#onStored(encoder.encode(JSON.stringify(data) ?? "").byteLength + (payload?.bytes.byteLength ?? 0));
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
  override async save(body: unknown, payload?: ArtifactPayload): Promise<SaveResult<ArtifactOut>> {
    const input = this.parse(body);
    if (payload) input.data = substituteMarkers(input.data, payloadPlaceholder(payload.bytes.byteLength, payload.contentType));
    const result = await this.store.transaction(async () => {
      const existing = input.id === undefined ? null : await this.store.findById(input.id);
      const record = existing ? await this.#change(existing, input) : await this.#insert(input);
      if (payload) await this.store.putPayload(record.id, payload);
      const output = this.#out(record);
      await this.emit(existing ? "entity.updated" : "entity.created", [record], [output]);
      return { output, created: existing === null };
    });
    this.#stored(input.data, payload);
    return result;
  }

  /** Creates an artifact (see {@link ArtifactManager.save}), optionally holding a binary payload. */
  override async create(body: unknown, payload?: ArtifactPayload): Promise<ArtifactOut> {
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
        await this.store.deleteMany([id, ...(await this.store.descendantIds(id))]);
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

  /** The artifact's binary payload. @throws {NotFoundError} unknown artifact, or one without payload. */
  async download(id: string): Promise<ArtifactPayload> {
    if (!(await this.store.exists(id))) throw new NotFoundError(`Artifact with id ${id} not found`);
    const payload = await this.store.getPayload(id);
    if (!payload) throw new NotFoundError(`Artifact ${id} has no binary content`);
    return payload;
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
