import { BadRequestError, ConflictError, NotFoundError } from "../../core/errors.ts";
import type { ArtifactConfigLinks, ArtifactManager } from "../artifact/manager.ts";
import type { PayloadInput } from "../artifact/payload.ts";
import type { ArtifactIn, ArtifactOut, LinkedConfig } from "../artifact/schema.ts";
import type { ConfigManager } from "../config/manager.ts";
import type { ConfigOut } from "../config/schema.ts";
import type { ConfigLinkStore } from "./store.ts";

/** How a {@link ConfigLinkManager} is made. */
export interface ConfigLinkManagerOptions {
  /** Where links live. */
  store: ConfigLinkStore;
  /** The configs (or a getter, when the config module is set up later). */
  configs: ConfigManager | (() => ConfigManager);
  artifacts: ArtifactManager;
}

/**
 * Links between configs and root artifacts (contract §9 with decisions): a
 * config links many root artifacts, an artifact at most one config.
 *
 * @example
 * ```ts ignore
 * await links.link(config.id, model.id);
 * const config = await links.configOf(prediction.id); // walks up to the model
 * ```
 */
export class ConfigLinkManager implements ArtifactConfigLinks {
  /** Where links are kept; a link outlives neither its config nor its artifact. */
  readonly store: ConfigLinkStore;
  readonly artifacts: ArtifactManager;
  readonly #configs: () => ConfigManager;

  /** Creates the manager over the link store, the configs and the artifacts. */
  constructor(options: ConfigLinkManagerOptions) {
    this.store = options.store;
    this.artifacts = options.artifacts;
    const configs = options.configs;
    this.#configs = typeof configs === "function" ? configs : () => configs;
  }

  /** The config module's manager, resolved on first use (the config module may be set up after this one). */
  get configs(): ConfigManager {
    return this.#configs();
  }

  /**
   * Links a root artifact to a config.
   *
   * @throws {NotFoundError} unknown config or artifact; {@link BadRequestError}
   * the artifact is not a root; {@link ConflictError} it is already linked.
   */
  async link(configId: string, artifactId: string): Promise<void> {
    await this.artifacts.store.transaction(async () => {
      if (!(await this.configs.repository.exists(configId))) {
        throw new NotFoundError(`Config with id ${configId} not found`);
      }
      const artifact = await this.artifacts.store.findById(artifactId);
      if (!artifact) throw new NotFoundError(`Artifact ${artifactId} not found`);
      if (artifact.parent_id !== null) {
        throw new BadRequestError(`Artifact ${artifactId} is not a root artifact (parent_id=${artifact.parent_id})`);
      }
      const current = await this.store.configIdOf(artifactId);
      if (current !== null) {
        throw new ConflictError(`Artifact ${artifactId} is already linked to config ${current}`);
      }
      await this.store.link(configId, artifactId);
    });
  }

  /**
   * Creates a root artifact (optionally with a payload, see
   * {@link ArtifactManager.create}) and links it to the config, atomically.
   *
   * @throws {NotFoundError} unknown config; {@link BadRequestError} the body names a parent.
   */
  async createLinked(configId: string, body: ArtifactIn, payload?: PayloadInput): Promise<ArtifactOut> {
    if (body.parent_id !== undefined && body.parent_id !== null) {
      throw new BadRequestError("A linked artifact must be a root artifact: it cannot have a parent_id");
    }
    return this.artifacts.store.transaction(async () => {
      if (!(await this.configs.repository.exists(configId))) {
        throw new NotFoundError(`Config with id ${configId} not found`);
      }
      const artifact = await this.artifacts.create(body, payload);
      await this.link(configId, artifact.id);
      return artifact;
    });
  }

  /** Removes the link between this config and this artifact, if any (idempotent). */
  async unlink(configId: string, artifactId: string): Promise<void> {
    await this.store.unlink(configId, artifactId);
  }

  /** Deletes every root artifact linked to the config with its whole subtree (the chap profile's config delete). */
  async deleteLinkedTrees(configId: string): Promise<void> {
    await this.artifacts.store.transaction(async () => {
      for (const id of await this.store.artifactIdsOf(configId)) {
        if (await this.artifacts.store.exists(id)) await this.artifacts.delete(id);
      }
    });
  }

  /** The root artifacts linked to the config, ascending id; `[]` for an unknown config (contract §9.3). */
  async artifactsOf(configId: string): Promise<ArtifactOut[]> {
    const out: ArtifactOut[] = [];
    for (const id of await this.store.artifactIdsOf(configId)) {
      const record = await this.artifacts.store.findById(id);
      if (record) out.push(await this.artifacts.toOutput(record));
    }
    return out;
  }

  /**
   * The config linked to the artifact's root (walking up from the artifact),
   * with data validated by the config schema.
   *
   * @throws {NotFoundError} unknown artifact, or its root has no linked config.
   */
  async configOf(artifactId: string): Promise<ConfigOut> {
    const path = await this.artifacts.pathToRoot(artifactId);
    const root = path[path.length - 1];
    if (root === undefined) throw new NotFoundError(`Artifact ${artifactId} not found`);
    const configId = await this.store.configIdOf(root);
    if (configId === null) throw new NotFoundError(`No config is linked to artifact ${artifactId} or its root ${root}`);
    return this.configs.get(configId);
  }

  /** The config linked directly to this artifact, data as stored, or null (tree nodes show it). */
  async linkedConfig(artifactId: string): Promise<LinkedConfig | null> {
    const configId = await this.store.configIdOf(artifactId);
    if (configId === null) return null;
    const record = await this.configs.repository.findById(configId);
    if (!record) return null;
    return {
      id: record.id,
      created_at: record.created_at,
      updated_at: record.updated_at,
      name: record.name,
      data: record.data,
    };
  }
}
