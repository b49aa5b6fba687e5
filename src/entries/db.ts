/**
 * Stores, repositories, migrations and the list-query model (`chapkit/db`,
 * `@chapkit/core/db`): open a SQLite or PostgreSQL store, declare tables, run
 * migrations and query rows with the same filter, sort and cursor grammar the
 * HTTP lists speak. A service built with `ServiceBuilder` does all of this for
 * its modules; import this entry to work with a store directly (scripts,
 * custom modules, tests). Runnable: `examples/library_usage.ts`.
 *
 * @example
 * ```ts ignore
 * import { createRepository, defineTable, migrate, openDatabase, tableMigration } from "chapkit/db";
 *
 * const sites = defineTable({ name: "sites", columns: { name: { type: "text", unique: true } } });
 * const db = await openDatabase("sqlite::memory:");
 * await migrate(db, [tableMigration(sites)]);
 * const repository = createRepository(db, sites);
 * await db.close();
 * ```
 *
 * @module
 */

export type { ListQueryParser, ParsedListQuery } from "../http/crud/list-query.ts";
export type { ListRouteOptions } from "../http/list-query-route.ts";
export { defineTable } from "../core/entity.ts";
export type {
  Column,
  ColumnType,
  EntityRecord,
  IndexDefinition,
  JsonPathIndex,
  OnDelete,
  Relation,
  TableDefinition,
} from "../core/entity.ts";
export { loadRelations, type Loadable } from "../db/relations.ts";
export type { InsertValues, Repository, UpdateValues } from "../core/repository.ts";
export {
  decodeCursor, encodeCursor, parseFields, parseFilter, parseListQuery, parseSort, RESERVED_LIST_PARAMETERS,
  runListRequest, selectFields,
} from "../core/query/mod.ts";
export type {
  CursorPage, CursorState, Filter, FilterOperator, FilterValue, ListMode, ListQuery, ListQueryOptions,
  ListRequest, ListResult, ListSource, PageEnvelope, ParseFilterOptions, SortDirection, SortKey,
} from "../core/query/mod.ts";
export { applyMergePatch } from "../core/merge-patch.ts";
export { checkIfMatch, computeEtag, ifNoneMatchHits } from "../core/etag.ts";
export { validateValue } from "../core/validation.ts";
export type { ValidateOptions } from "../core/validation.ts";
export { SANITIZE_KEYWORD, sanitizedString } from "../core/sanitize.ts";
export type { StringSanitizing } from "../core/sanitize.ts";
export type {
  AttemptEnd,
  ClaimedJob,
  ClaimOptions,
  JobLease,
  JobOutcome,
  JobStore,
  NewJob,
  SweepOptions,
} from "../modules/jobs/job-store.ts";
export { memoryJobStore } from "../modules/jobs/memory-store.ts";
export { SqlJobStore } from "../modules/jobs/store.ts";
export { openDatabase, DEFAULT_DATABASE_URL } from "../db/open.ts";
export type { DatabaseOptions } from "../db/open.ts";
export type { DialectName, Driver, Executor, IsolationLevel, Row, SqlValue, SubscriptionOptions, TransactionOptions } from "../db/driver.ts";
export { explainStatement } from "../db/instrumented-driver.ts";
export { adviseIndexes, type IndexAdvice } from "../db/index-advice.ts";
export type { PostgresOptions } from "../db/postgres-driver.ts";
export { intervalStart, partitionMigration, partitionName, type PartitionPolicy, type PartitionReport, Partitions } from "../db/partitions.ts";
export { ShardedRepository, type ShardedTableOptions, ShardMap, type ShardMapJson, type ShardPage, shardHash } from "../db/shards.ts";
export { replicated, ReplicatedDriver, type ReplicaOptions, type ReplicaStatus } from "../db/replicas.ts";
export type { StoreCircuitOptions } from "../db/store-circuit.ts";
export type { SqliteOptions } from "../db/sqlite-driver.ts";
export { migrate, migrateDown, MigrationError } from "../db/migrate.ts";
export type { MigrationReport } from "../db/migrate.ts";
export type { Migration, MigrationSql } from "../db/migration.ts";
export { tableMigration } from "../db/table-migration.ts";
export { createRepository, SqlRepository } from "../db/repository.ts";
export type { ConfigStore } from "../modules/config/store.ts";
export type { ArtifactStore, SubtreeRecord } from "../modules/artifact/store.ts";
export { cacheToken, CachedRepository, MemoryCacheBackend, PostgresCacheBus, QUERY_CACHE_KEY, QueryCache, TableCache, type CacheBackend, type CacheBus, type CacheInvalidation, type CacheNamespaceOptions, type CacheStore, type Lookup, type PostgresCacheBusOptions, type QueryCacheOptions, type TableCacheOptions } from "../db/cache/mod.ts";
export { MemcachedCacheBackend, type MemcachedCacheOptions } from "../integrations/memcached-cache.ts";
export { connectRedis, RedisCacheBackend, RedisCacheBus, type RedisCacheBusOptions, type RedisCacheOptions, type RedisClient, type RedisHandle } from "../integrations/redis-cache.ts";
export { AzureBlobStore, type AzureBlobStoreOptions, type BlobBody, type BlobInfo, type BlobStore, type ByteRange, checkBlobKey, type CollectOptions, type CollectReport, type ContentEncoding, type ContentInfo, type ContentRef, ContentStore, type ContentStoreOptions, DatabaseBlobStore, type DatabaseBlobStoreOptions, FileBlobStore, isCompressible, openBlobStore, type OpenBlobStoreOptions, type PresignOptions, S3BlobStore, type S3BlobStoreOptions, type S3Credentials, storageMigrations } from "../storage/mod.ts";
export { type BackupOptions, type BackupProgress, type BackupReport, backupStore, type BlobStoreOpener, type RestoreOptions, type RestoreReport, restoreStore, verifyBackup } from "../storage/mod.ts";
