/**
 * The route types a builder collects as modules are added, so the built app
 * keeps them (`ServiceApp<Routes>`) and Eden's `treaty<typeof app>` types
 * calls to them. They describe the routes the modules register at run time;
 * the typed-client test calls each of them against a running service.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { CreateEden } from "elysia";
import type { Problem } from "../core/errors.ts";
import type { ServiceInfo } from "../core/info.ts";
import type { HealthReport } from "../http/health.ts";
import type { CrudRouteTypes, ProblemAnswers, RouteType } from "../http/crud/route-types.ts";
import type { ArtifactIn, ArtifactOut, ArtifactTreeNode } from "../modules/artifact/schema.ts";
import type { JobRecord, JobStatus } from "../modules/jobs/types.ts";

/** The route types a builder has collected; `build()` gives them to the app's type. */
export interface WithRoutes<Routes> {
  /** Type-level only: never set at run time. */
  readonly "~routes"?: Routes;
}

/** `GET /api/v1/info`, which every service serves. */
export type InfoRouteTypes = CreateEden<"/api/v1/info", { get: RouteType<unknown, unknown, {}, { 200: ServiceInfo }> }>;

/** `GET /api/v1/health` (or its chosen path). */
export type HealthRouteTypes<Path extends string = "/api/v1/health"> = CreateEden<
  Path,
  { get: RouteType<unknown, unknown, {}, { 200: HealthReport; 503: HealthReport }> }
>;

/** A config's create or update body, its `data` typed by the config schema. */
export interface TypedConfigIn<Data> {
  /** Optional client-chosen ULID. */
  id?: string;
  /** Unique name. */
  name: string;
  /** Validated against the config schema. */
  data: Data;
}

/** A config as clients get it. */
export interface TypedConfigOut<Data> {
  /** ULID. */
  id: string;
  /** ISO 8601 UTC. */
  created_at: string;
  /** ISO 8601 UTC. */
  updated_at: string;
  /** Unique name. */
  name: string;
  /** The config's data. */
  data: Data;
}

/** The config routes for a config schema `S`. */
export type ConfigRouteTypes<S extends TSchema, Prefix extends string = "/api/v1/config"> = CrudRouteTypes<
  Prefix,
  TypedConfigIn<Static<S>>,
  TypedConfigOut<Static<S>>
>;

/** The artifact routes beyond CRUD on one artifact, under `{prefix}/:entity_id`. */
export type ArtifactRecordRoutes = {
  ":entity_id": {
    $expand: { get: RouteType<unknown, unknown, { entity_id: string }, { 200: ArtifactTreeNode } & ProblemAnswers> };
    $tree: { get: RouteType<unknown, unknown, { entity_id: string }, { 200: ArtifactTreeNode } & ProblemAnswers> };
    $download: { get: RouteType<unknown, unknown, { entity_id: string }, { 200: Blob } & ProblemAnswers> };
    delete: RouteType<unknown, { cascade?: boolean }, { entity_id: string }, { 204: undefined; 409: Problem } & ProblemAnswers>;
  };
};

/** The artifact routes: CRUD plus `$tree`, `$expand`, `$download` and delete with `cascade`. */
export type ArtifactRouteTypes<Prefix extends string = "/api/v1/artifacts"> =
  & CrudRouteTypes<Prefix, ArtifactIn, ArtifactOut>
  & CreateEden<Prefix, ArtifactRecordRoutes>;

/** The job routes: list (optionally by status), get, `$stream`, `$cancel` and delete. */
export type JobRouteTypes<Prefix extends string = "/api/v1/jobs"> = CreateEden<Prefix, {
  get: RouteType<unknown, { status_filter?: JobStatus }, {}, { 200: JobRecord[] } & ProblemAnswers>;
  ":job_id": {
    get: RouteType<unknown, unknown, { job_id: string }, { 200: JobRecord } & ProblemAnswers>;
    delete: RouteType<unknown, unknown, { job_id: string }, { 204: undefined } & ProblemAnswers>;
    $cancel: { post: RouteType<unknown, unknown, { job_id: string }, { 200: JobRecord; 409: Problem } & ProblemAnswers> };
    $stream: { get: RouteType<unknown, { poll_interval?: number }, { job_id: string }, { 200: string } & ProblemAnswers> };
  };
}>;
