import type { ArtifactHierarchy, ArtifactOut, ArtifactRecord, ArtifactTreeNode, LinkedConfig } from "./schema.ts";
import type { SubtreeRecord } from "./store.ts";

/** A stored artifact row as output, keys in wire order. */
export function toArtifactOut(record: ArtifactRecord): ArtifactOut {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    data: record.data,
    parent_id: record.parent_id,
    level: record.level,
  };
}

/** A stored artifact row as the chap profile answers it: `id, created_at, updated_at, tags, data, parent_id, level`. */
export function toTaggedArtifactOut(record: ArtifactRecord): ArtifactOut {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    tags: record.tags ?? [],
    data: record.data,
    parent_id: record.parent_id,
    level: record.level,
  } as ArtifactOut;
}

/** The label of a level: the hierarchy's label, or `level_{n}`. */
export function levelLabel(hierarchy: ArtifactHierarchy, level: number): string {
  return hierarchy.level_labels?.[level] ?? `level_${level}`;
}

/** One node with its hierarchy metadata; `children` null means "not loaded". */
export function treeNode(
  record: ArtifactRecord,
  hierarchy: ArtifactHierarchy,
  children: ArtifactTreeNode[] | null,
  config: LinkedConfig | null,
  out: (record: ArtifactRecord) => ArtifactOut = toArtifactOut,
): ArtifactTreeNode {
  return {
    ...out(record),
    level_label: levelLabel(hierarchy, record.level),
    hierarchy: hierarchy.name,
    children,
    config,
  };
}

/**
 * Nests subtree rows (top first, ordered by depth then id) under the top
 * node: every node gets a `children` array (leaves `[]`) in ascending id
 * order; only the top node carries `config`.
 */
export function buildTree(
  rows: SubtreeRecord[],
  hierarchy: ArtifactHierarchy,
  config: LinkedConfig | null,
  out: (record: ArtifactRecord) => ArtifactOut = toArtifactOut,
): ArtifactTreeNode | null {
  const [top] = rows;
  if (!top) return null;
  const byId = new Map<string, ArtifactTreeNode>();
  for (const row of rows) {
    const { depth: _depth, ...record } = row;
    const node = treeNode(record, hierarchy, [], row === top ? config : null, out);
    byId.set(row.id, node);
    if (row !== top && row.parent_id !== null) byId.get(row.parent_id)?.children?.push(node);
  }
  return byId.get(top.id) ?? null;
}
