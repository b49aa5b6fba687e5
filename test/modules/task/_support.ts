/**
 * A small `artifacts` module for task tests: result artifacts in a real SQL
 * table, created through the same `create(body)` the artifacts module offers.
 */
import { defineTable, type EntityRecord } from "../../../src/core/entity.ts";
import { createRepository } from "../../../src/db/repository.ts";
import { tableMigration } from "../../../src/db/table-migration.ts";
import type { ServiceModule } from "../../../src/http/module.ts";

/** A stored result artifact. */
export interface ResultArtifact extends EntityRecord {
  data: unknown;
  parent_id: string | null;
}

/** What the test artifacts module provides under `artifacts`. */
export interface ResultArtifacts {
  create(body: { id?: string; data: unknown; parent_id?: string | null }): Promise<ResultArtifact>;
  get(id: string): Promise<ResultArtifact | null>;
}

const table = defineTable({
  name: "task_test_artifacts",
  columns: { data: { type: "json" }, parent_id: { type: "ulid", nullable: true } },
});

/** The test artifacts module (name `artifacts`). */
export function resultArtifactsModule(): ServiceModule {
  return {
    name: "artifacts",
    migrations: [tableMigration(table, "task-test-artifacts")],
    setup(context) {
      const repository = createRepository<ResultArtifact>(context.db, table);
      context.provide<ResultArtifacts>("artifacts", {
        create: (body) => repository.insert({ data: body.data, parent_id: body.parent_id ?? null }),
        get: (id) => repository.findById(id),
      });
    },
  };
}
