import { NotFoundError } from "../../core/errors.ts";
import type { ContentStore } from "../../storage/content-store.ts";
import type { ArtifactManager } from "../artifact/manager.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { LineageInput, LineageKind, LineageRecord, LineageStore } from "./lineage-store.ts";

/** One node of a lineage graph: an artifact, a content-addressed input, a config snapshot or a code version. */
export interface LineageNode {
  /** `artifact:<id>`, `data:sha256:<hex>`, `config:sha256:<hex>` or `code:<service>/<runner>`. */
  id: string;
  /** What the node stands for. */
  type: "artifact" | "data" | "config" | "code";
  /** Artifacts: the artifact id. */
  artifact_id?: string;
  /** Artifacts: what produced it (null for an artifact no run produced, e.g. an upload). */
  kind?: LineageKind | null;
  /** Artifacts: `data.ml_type` when it has one. */
  ml_type?: string | null;
  /** Artifacts: false when the artifact was deleted after it was recorded. */
  exists?: boolean;
  /** Artifacts: when it was produced (runs only). */
  created_at?: string;
  /** Artifacts: the job that produced it. */
  job_id?: string | null;
  /** Artifacts: the registry name it is a version of (models) or predicted with (predictions). */
  model_name?: string | null;
  /** Artifacts: that registry version. */
  model_version?: string | null;
  /** Data, configs and uploaded artifacts: `sha256:<hex>` of the bytes. */
  digest?: string;
  /** Data: size of the bytes. */
  size?: number;
  /** Data: their media type. */
  content_type?: string;
  /** Configs: the config the snapshot was read from. */
  config_id?: string | null;
  /** Code: the service's `info.version`. */
  service_version?: string | null;
  /** Code: the runner's `codeVersion`. */
  runner_version?: string | null;
}

/** An edge of a lineage graph: `from` was read, as `role`, by the run that produced `to`. */
export interface LineageEdge {
  /** The node read. */
  from: string;
  /** The node produced. */
  to: string;
  /** `data`, `geo`, `config`, `code`, `model`, `member` (of an ensemble), `future`, `historic`, `input`. */
  role: string;
}

/** What `GET /api/v1/artifacts/{id}/$lineage` answers. */
export interface LineageGraph {
  /** The artifact asked about. */
  artifact: LineageNode;
  /** Everything it was produced from, transitively, nearest first. */
  upstream: LineageNode[];
  /** Everything produced from it, transitively, nearest first. */
  downstream: LineageNode[];
  /** Every edge between the nodes above. */
  edges: LineageEdge[];
  /** True when the walk stopped at `depth` or at the node limit before the ends. */
  truncated: boolean;
}

/** Options of {@link Lineage}. */
export interface LineageOptions {
  /** Where records live. */
  store: LineageStore;
  /** Where inputs are stored. */
  content: ContentStore;
  /** The artifacts lineage nodes describe. */
  artifacts: ArtifactManager;
  /** The service's version, recorded as the code that ran. */
  serviceVersion: string | null;
  /** The runner's own version (`ModelRunner.codeVersion`), when it declares one. */
  runnerVersion: string | null;
  /** Resolves an ensemble's members (name and version) to their model artifacts. */
  registry?: ModelRegistry;
}

/** Options of {@link Lineage.graph}. */
export interface LineageGraphOptions {
  /** Hops walked each way (default 10). */
  depth?: number;
  /** Nodes at most each way (default 1000). */
  limit?: number;
}

const encoder = new TextEncoder();
const artifactNode = (id: string): string => `artifact:${id}`;

/**
 * Data versioning and lineage of the ML module: inputs of `$train`,
 * `$predict` and `$batch-predict` are stored once in the content store
 * (named by their SHA-256), and every produced artifact records which
 * inputs, config snapshot, model and code version produced it.
 */
export class Lineage {
  readonly #store: LineageStore;
  readonly #content: ContentStore;
  readonly #artifacts: ArtifactManager;
  readonly #registry: ModelRegistry | undefined;
  /** The code version recorded with runs: the service's version. */
  readonly serviceVersion: string | null;
  /** The code version recorded with runs: the runner's own. */
  readonly runnerVersion: string | null;

  /** Creates the lineage service. */
  constructor(options: LineageOptions) {
    this.#store = options.store;
    this.#content = options.content;
    this.#artifacts = options.artifacts;
    this.#registry = options.registry;
    this.serviceVersion = options.serviceVersion;
    this.runnerVersion = options.runnerVersion;
  }

  /** The store of records. */
  get store(): LineageStore {
    return this.#store;
  }

  /**
   * Stores a JSON input (its JSON text, exactly as `JSON.stringify` writes it)
   * once in the content store; the digest equals the registry's `data_hash`
   * of the same value.
   */
  async storeJson(role: string, value: unknown): Promise<LineageInput> {
    const bytes = encoder.encode(JSON.stringify(value ?? null));
    const ref = await this.#content.put(bytes, { contentType: "application/json" });
    return { role, digest: `sha256:${ref.digest}`, size: ref.size, content_type: "application/json", source_artifact_id: null };
  }

  /** Stores each non-null JSON input under its role (see {@link Lineage.storeJson}). */
  async storeInputs(values: Record<string, unknown>): Promise<LineageInput[]> {
    const inputs: LineageInput[] = [];
    for (const [role, value] of Object.entries(values)) {
      if (value !== null && value !== undefined) inputs.push(await this.storeJson(role, value));
    }
    return inputs;
  }

  /** Records a produced artifact with the code version of this service and runner. */
  record(
    record: Omit<LineageRecord, "created_at" | "service_version" | "runner_version">,
  ): Promise<LineageRecord> {
    return this.#store.record({ ...record, service_version: this.serviceVersion, runner_version: this.runnerVersion });
  }

  /** Drops the records of deleted artifacts, releasing their inputs. */
  forget(artifactIds: readonly string[]): Promise<number> {
    return this.#store.forget(artifactIds);
  }

  /**
   * Walks an artifact's lineage both ways: upstream to the data, configs,
   * code and models it came from, downstream to what was produced from it.
   *
   * @throws {NotFoundError} unknown artifact.
   */
  async graph(artifactId: string, options: LineageGraphOptions = {}): Promise<LineageGraph> {
    const depth = options.depth ?? 10;
    const limit = options.limit ?? 1000;
    const root = await this.#artifact(artifactId);
    if (!root.exists) throw new NotFoundError(`Artifact with id ${artifactId} not found`);
    const edges = new Map<string, LineageEdge>();
    const addEdge = (edge: LineageEdge): void => void edges.set(`${edge.from}>${edge.to}>${edge.role}`, edge);
    let truncated = false;

    const upstream = new Map<string, LineageNode>();
    let frontier = [artifactId];
    for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        const record = await this.#store.get(id);
        const members = await this.#members(id);
        if (!record && members.length === 0) continue;
        const to = artifactNode(id);
        const add = (node: LineageNode, role: string): void => {
          addEdge({ from: node.id, to, role });
          if (upstream.has(node.id) || node.id === root.id) return;
          if (upstream.size >= limit) {
            truncated = true;
            return;
          }
          upstream.set(node.id, node);
          if (node.type === "artifact") next.push(node.artifact_id!);
        };
        for (const member of members) add(await this.#artifact(member), "member");
        if (!record) continue;
        for (const input of record.inputs) add(await this.#inputNode(input, record), input.role);
        if (record.model_artifact_id) add(await this.#artifact(record.model_artifact_id), "model");
        add(codeNode(record), "code");
      }
      frontier = next;
      if (hop === depth - 1 && next.length > 0) truncated = true;
    }

    const downstream = new Map<string, LineageNode>();
    frontier = [artifactId];
    for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const produced of await this.#store.producedFrom(id)) {
          const record = await this.#store.get(produced);
          const role = record?.model_artifact_id === id
            ? "model"
            : record?.inputs.find((input) => input.source_artifact_id === id)?.role ?? "input";
          addEdge({ from: artifactNode(id), to: artifactNode(produced), role });
          if (downstream.has(artifactNode(produced)) || produced === artifactId) continue;
          if (downstream.size >= limit) {
            truncated = true;
            continue;
          }
          downstream.set(artifactNode(produced), await this.#artifact(produced, record));
          next.push(produced);
        }
      }
      frontier = next;
      if (hop === depth - 1 && next.length > 0) truncated = true;
    }
    return { artifact: root, upstream: [...upstream.values()], downstream: [...downstream.values()], edges: [...edges.values()], truncated };
  }

  /** The model artifacts of an ensemble's members (none for any other artifact). */
  async #members(id: string): Promise<string[]> {
    if (!this.#registry) return [];
    const found = await this.#artifacts.repository.findById(id);
    if (!found || !isEnsembleData(found.data)) return [];
    const ids: string[] = [];
    for (const member of found.data.ensemble?.members ?? []) {
      const version = await this.#registry.version(member.name, member.version).catch(() => null);
      if (version?.artifact_id) ids.push(version.artifact_id);
    }
    return ids;
  }

  async #inputNode(input: LineageInput, record: LineageRecord): Promise<LineageNode> {
    if (input.source_artifact_id) {
      return { ...(await this.#artifact(input.source_artifact_id)), digest: input.digest, size: input.size, content_type: input.content_type };
    }
    const base = { digest: input.digest, size: input.size, content_type: input.content_type };
    if (input.role === "config") return { id: `config:${input.digest}`, type: "config", config_id: record.config_id, ...base };
    return { id: `data:${input.digest}`, type: "data", ...base };
  }

  async #artifact(id: string, known?: LineageRecord | null): Promise<LineageNode> {
    const found = await this.#artifacts.repository.findById(id);
    const record = known === undefined ? await this.#store.get(id) : known;
    const data = found?.data as Record<string, unknown> | null | undefined;
    const mlType = typeof data === "object" && data !== null && !Array.isArray(data) && typeof data.ml_type === "string" ? data.ml_type : null;
    return {
      id: artifactNode(id),
      type: "artifact",
      artifact_id: id,
      kind: record?.kind ?? null,
      ml_type: mlType,
      exists: found !== null,
      ...(record
        ? {
          created_at: record.created_at,
          job_id: record.job_id,
          model_name: record.model_name,
          model_version: record.model_version,
          config_id: record.config_id,
        }
        : {}),
    };
  }
}

function codeNode(record: LineageRecord): LineageNode {
  return {
    id: `code:${record.service_version ?? "-"}/${record.runner_version ?? "-"}`,
    type: "code",
    service_version: record.service_version,
    runner_version: record.runner_version,
  };
}
