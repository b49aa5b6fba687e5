import { type Static, type TObject, Type } from "@sinclair/typebox";

/**
 * Annotations a setting may carry besides its TypeBox type and `default`:
 *
 * - `env`: standard variable names read besides the derived `CHAPKIT_<GROUP>_<NAME>`
 *   (e.g. `PORT`); the derived name wins when both are set.
 * - `secret`: masked wherever settings are shown, and may be a secret reference
 *   (`file:`, `vault:`, `aws-sm:`) resolved at start-up and reload.
 * - `reload`: takes effect on reload (SIGHUP or a config-file change) without a restart.
 * - `aliases`: other spellings accepted for a choice (`warning` for `warn`).
 */
export interface SettingAnnotations {
  env?: readonly string[];
  secret?: boolean;
  reload?: boolean;
  aliases?: Readonly<Record<string, string>>;
}

const server = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, env: ["PORT"], description: "TCP port; 0 picks a free one" }),
  host: Type.String({ minLength: 1, default: "127.0.0.1", env: ["HOST"], description: "Interface to bind; 0.0.0.0 in containers" }),
  drainDelayMs: Type.Integer({ minimum: 0, default: 0, description: "On SIGTERM or $drain, how long readiness answers 503 before the server stops accepting (ms)" }),
  watchConfig: Type.Boolean({ default: true, description: "Reload when the config file changes" }),
  graceMs: Type.Integer({ minimum: 0, default: 10_000, description: "How long in-flight requests may take to finish on shutdown (ms)" }),
});

const database = Type.Object({
  url: Type.String({
    minLength: 1,
    default: "sqlite::memory:",
    env: ["DATABASE_URL"],
    secret: true,
    description: "Store URL: sqlite::memory:, sqlite:./file.db or postgres://user:password@host:5432/db",
  }),
  breakerThreshold: Type.Integer({ minimum: 1, default: 3, description: "Consecutive connection failures that open the PostgreSQL store's circuit" }),
  breakerProbeMs: Type.Integer({ minimum: 50, default: 500, description: "Milliseconds between probes of the PostgreSQL server while its circuit is open" }),
  replicaUrls: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    env: ["DATABASE_REPLICA_URLS"],
    secret: true,
    description: "PostgreSQL read replicas (comma-separated in the environment): reads of HTTP requests go to a healthy one",
  }),
  replicaStickyMs: Type.Integer({ minimum: 0, default: 5000, description: "Milliseconds a client's reads stay on the primary after its write (read-your-writes)" }),
  replicaCheckMs: Type.Integer({ minimum: 50, default: 1000, description: "Milliseconds between health checks of each read replica" }),
  replicaMaxLagMs: Type.Integer({ minimum: 0, default: 10_000, description: "A replica whose replay lags more than this gets no reads (0: no lag check)" }),
});

const cache = Type.Object({
  store: Type.Union([Type.Literal("memory"), Type.Literal("redis"), Type.Literal("memcached")], {
    default: "memory",
    description: "Backend of the query cache of tables that opt in: memory (per instance), redis or memcached (shared by every instance)",
  }),
  redisUrl: Type.String({ minLength: 1, default: "redis://127.0.0.1:6379", env: ["REDIS_URL"], secret: true, description: "Redis of the redis cache (and of invalidations with bus=redis)" }),
  memcachedUrl: Type.String({ minLength: 1, default: "memcached://127.0.0.1:11211", env: ["MEMCACHED_URL"], description: "Memcached server of the memcached cache" }),
  keyPrefix: Type.String({ default: "chapkit:cache:", description: "Prefix of the cache's Redis and Memcached keys and of its Redis channel" }),
  bus: Type.Union([Type.Literal("auto"), Type.Literal("postgres"), Type.Literal("redis"), Type.Literal("none")], {
    default: "auto",
    description: "How memory caches of other instances learn of writes: auto (LISTEN/NOTIFY on PostgreSQL, none on SQLite), postgres, redis or none",
  }),
});

const log = Type.Object({
  level: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], {
    default: "info",
    env: ["LOG_LEVEL"],
    aliases: { warning: "warn" },
    reload: true,
    description: "Lowest level written",
  }),
  format: Type.Union([Type.Literal("console"), Type.Literal("json")], {
    default: "console",
    env: ["LOG_FORMAT"],
    description: "console (readable) or json (one object a line)",
  }),
});

const http = Type.Object({
  maxBodyBytes: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024, description: "Largest accepted JSON request body; larger ones answer 413" }),
  maxMlBodyBytes: Type.Integer({ minimum: 1, default: 256 * 1024 * 1024, description: "Largest accepted $train, $predict and $validate body" }),
  maxUploadBytes: Type.Integer({ minimum: 1, default: 256 * 1024 * 1024, description: "Largest accepted $upload body" }),
  secret: Type.Optional(Type.String({
    minLength: 16,
    env: ["CHAPKIT_SECRET"],
    secret: true,
    description: "Signs list cursors (HMAC); without it a secret is generated once and kept in the database",
  })),
  trustProxy: Type.Boolean({ default: false, description: "Take the client address from X-Forwarded-For (only behind a proxy that sets it)" }),
  hstsMaxAge: Type.Integer({ minimum: 0, default: 0, description: "Strict-Transport-Security max-age in seconds; 0: no header (set it behind HTTPS only)" }),
  requestTimeoutMs: Type.Integer({ minimum: 0, default: 30_000, reload: true, description: "Milliseconds a request may take before it answers 504 (0: no limit); streams are exempt" }),
  cacheControl: Type.Record(Type.String(), Type.String(), {
    default: {},
    reload: true,
    description: 'Cache-Control of successful GETs per route, e.g. {"GET /api/v1/info": "public, max-age=300"} (JSON in the environment)',
  }),
  routeTimeouts: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
    default: {},
    reload: true,
    description: 'Per-route request timeouts, e.g. {"POST /api/v1/ml/*": 120000} (JSON in the environment)',
  }),
});

const load = Type.Object({
  maxInFlight: Type.Integer({ minimum: 0, default: 0, reload: true, description: "Requests handled at once (0: no cap); more wait in the queue" }),
  queueSize: Type.Integer({ minimum: 0, default: 64, reload: true, description: "Requests that may wait for a slot; beyond it they answer 503" }),
  queueTimeoutMs: Type.Integer({ minimum: 0, default: 1000, reload: true, description: "Milliseconds a request may wait for a slot before it answers 503" }),
  memoryHighWaterMb: Type.Integer({ minimum: 0, default: 0, reload: true, description: "Resident memory above which requests answer 503 (0: off)" }),
  retryAfterSeconds: Type.Integer({ minimum: 1, default: 1, reload: true, description: "Retry-After of a shed request" }),
});

const auth = Type.Object({
  jwtSecret: Type.Optional(Type.String({
    minLength: 32,
    env: ["CHAPKIT_JWT_SECRET"],
    secret: true,
    description: "Signs access tokens; at least 32 characters (without it tokens do not survive a restart)",
  })),
  apiKeys: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    env: ["CHAPKIT_API_KEYS"],
    secret: true,
    description: "Static API keys (comma-separated in the environment)",
  }),
  apiKeyFile: Type.Optional(Type.String({ minLength: 1, env: ["CHAPKIT_API_KEY_FILE"], description: "File of static API keys, one a line, # comments" })),
  adminUsername: Type.Optional(Type.String({ minLength: 1, env: ["CHAPKIT_ADMIN_USERNAME"], description: "First administrator, created while no user exists" })),
  adminPassword: Type.Optional(Type.String({ minLength: 1, env: ["CHAPKIT_ADMIN_PASSWORD"], secret: true, description: "Password of the first administrator" })),
});

const monitoring = Type.Object({
  metricsToken: Type.Optional(Type.String({
    minLength: 1,
    env: ["CHAPKIT_METRICS_TOKEN"],
    secret: true,
    description: "Bearer token that may read /metrics even under auth; without auth, /metrics requires it",
  })),
});

const outbound = Type.Object({
  timeoutMs: Type.Integer({ minimum: 1, default: 10_000, description: "Milliseconds one outbound attempt may take" }),
  retries: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: "Retries of a failed idempotent outbound call" }),
  backoffMs: Type.Integer({ minimum: 0, default: 200, description: "Base of the exponential back-off between retries (ms)" }),
  maxBackoffMs: Type.Integer({ minimum: 0, default: 5000, description: "Longest wait before a retry (ms)" }),
  breakerThreshold: Type.Integer({ minimum: 1, default: 5, description: "Consecutive failures that open an origin's circuit" }),
  breakerProbeMs: Type.Integer({ minimum: 1, default: 5000, description: "Milliseconds between trial calls while a circuit is open" }),
});

const jobs = Type.Object({
  leaseMs: Type.Integer({
    minimum: 1,
    default: 60_000,
    env: ["CHAPKIT_JOB_LEASE_MS"],
    description: "Milliseconds after its last heartbeat that a job's instance counts as gone; its job is then retried or fails",
  }),
});

const registration = Type.Object({
  orchestratorUrl: Type.Optional(Type.String({
    minLength: 1,
    env: ["SERVICEKIT_ORCHESTRATOR_URL"],
    description: "chap-core's register URL, e.g. http://chap:8000/v2/services/$register; unset: no registration",
  })),
  host: Type.Optional(Type.String({ minLength: 1, env: ["SERVICEKIT_HOST"], description: "Host the orchestrator calls back (default: the machine's hostname)" })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, env: ["SERVICEKIT_PORT"], description: "Port the orchestrator calls back (default: the port listened on)" })),
  key: Type.Optional(Type.String({ minLength: 1, env: ["SERVICEKIT_REGISTRATION_KEY"], secret: true, description: "Sent as X-Service-Key" })),
  keepaliveMs: Type.Integer({ minimum: 1, default: 10_000, description: "Milliseconds between keepalive pings" }),
  reRegisterGraceMs: Type.Integer({ minimum: 0, default: 30_000, description: "Wait after a 404 ping before registering again (ms)" }),
  attempts: Type.Integer({ minimum: 1, default: 5, description: "Register attempts" }),
  retryDelayMs: Type.Integer({ minimum: 0, default: 2000, description: "Wait between register attempts (ms)" }),
  readinessTimeoutMs: Type.Integer({ minimum: 0, default: 30_000, description: "How long to wait for the own /health before registering (ms)" }),
});

const dimension = Type.Union([Type.Literal("address"), Type.Literal("key"), Type.Literal("user"), Type.Literal("route")]);

const rateLimit = Type.Object({
  enabled: Type.Boolean({ default: false, reload: true, description: "Answer 429 past the policies below" }),
  policies: Type.Array(Type.Object({
    name: Type.String({ pattern: "^[A-Za-z0-9_-]+$" }),
    limit: Type.Integer({ minimum: 1 }),
    windowSeconds: Type.Integer({ minimum: 1 }),
    by: Type.Array(dimension, { minItems: 1 }),
    routes: Type.Optional(Type.Array(Type.String())),
  }), {
    default: [{ name: "default", limit: 100, windowSeconds: 60, by: ["address"] }],
    reload: true,
    description: 'Policies as JSON: [{"name","limit","windowSeconds","by":["address"|"key"|"user"|"route"],"routes":["POST /api/v1/ml/*"]}]',
  }),
  store: Type.Union([Type.Literal("memory"), Type.Literal("redis")], { default: "memory", description: "memory (per instance) or redis (one limit across instances)" }),
  redisUrl: Type.String({ minLength: 1, default: "redis://127.0.0.1:6379", env: ["REDIS_URL"], secret: true, description: "Redis of the redis store" }),
  keyPrefix: Type.String({ default: "chapkit:ratelimit:", description: "Prefix of the Redis keys" }),
  trustProxy: Type.Boolean({ default: false, reload: true, description: "Take the client address from X-Forwarded-For (only behind a proxy that sets it)" }),
});

const cors = Type.Object({
  enabled: Type.Boolean({ default: false, reload: true, description: "Answer CORS preflights and add Access-Control-* to answers" }),
  origins: Type.Array(Type.String({ minLength: 1 }), { default: [], reload: true, description: "Allowed browser origins (https://app.example.org), or * for any" }),
  credentials: Type.Boolean({ default: false, reload: true, description: "Allow credentials (cookies, Authorization) from those origins" }),
  maxAgeSeconds: Type.Integer({ minimum: 0, default: 600, reload: true, description: "How long browsers may cache a preflight" }),
  exposeHeaders: Type.Array(Type.String({ minLength: 1 }), {
    default: ["X-Request-ID", "ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy"],
    reload: true,
    description: "Response fields scripts may read",
  }),
});

const compression = Type.Object({
  enabled: Type.Boolean({ default: false, reload: true, description: "Compress answers (gzip or brotli, negotiated)" }),
  thresholdBytes: Type.Integer({ minimum: 0, default: 1024, reload: true, description: "Smallest body compressed" }),
});

const storage = Type.Object({
  url: Type.String({
    minLength: 1,
    default: "db:",
    description: "Where payloads live: db: (the database, in chunks), file:///var/lib/chapkit/blobs, s3://bucket/prefix?endpoint=…&region=…&style=path, azure://container/prefix?account=…&endpoint=…",
  }),
  compression: Type.Union([Type.Literal("none"), Type.Literal("gzip"), Type.Literal("zstd")], {
    default: "none",
    description: "Compression at rest of compressible payloads (text, JSON, CSV…): none, gzip or zstd",
  }),
  accessKeyId: Type.Optional(Type.String({ minLength: 1, env: ["AWS_ACCESS_KEY_ID"], secret: true, description: "S3 access key id (HMAC key on GCS)" })),
  secretAccessKey: Type.Optional(Type.String({ minLength: 1, env: ["AWS_SECRET_ACCESS_KEY"], secret: true, description: "S3 secret access key" })),
  azureAccountKey: Type.Optional(Type.String({ minLength: 1, env: ["AZURE_STORAGE_KEY"], secret: true, description: "Azure storage account key (base64)" })),
  gcGraceMs: Type.Integer({ minimum: 0, default: 3_600_000, description: "Unreferenced payloads younger than this are kept by garbage collection (ms)" }),
  gcCron: Type.String({
    default: "17 * * * *",
    description: "Cron expression of the storage.collect job (garbage collection of unreferenced payloads; needs withJobs()); empty: not scheduled",
  }),
  uploadExpiryMs: Type.Integer({ minimum: 60_000, default: 86_400_000, description: "Resumable (tus) uploads untouched for this long are removed by garbage collection (ms)" }),
  retentionCron: Type.String({
    default: "47 * * * *",
    description: "Cron expression of the artifacts.retention job (expiry and retention policies; needs withJobs()); empty: not scheduled",
  }),
});


const events = Type.Object({
  replayLimit: Type.Integer({ minimum: 0, default: 1000, description: "Events kept per instance for realtime subscribers that resume (Last-Event-ID); none without withRealtime()" }),
  exclude: Type.Array(Type.String({ minLength: 1 }), { default: [], description: "Collections that publish no events (e.g. audit)" }),
  outboxRetentionMs: Type.Integer({
    minimum: 1000,
    default: 600_000,
    description: "Milliseconds events stay in the PostgreSQL outbox table before they are pruned",
  }),
});

const sandbox = Type.Object({
  enabled: Type.Boolean({
    default: false,
    env: ["CHAPKIT_SANDBOX"],
    description: "Playground mode: an in-memory store (DATABASE_URL ignored), seeded and reset on a schedule",
  }),
  resetSeconds: Type.Integer({ minimum: 1, default: 3600, description: "Seconds between sandbox resets" }),
});

const schema = Type.Object({ server, database, cache, log, http, load, rateLimit, cors, compression, auth, monitoring, outbound, jobs, events, registration, sandbox, storage });

/**
 * The one schema of every chapkit setting, grouped by concern. Adding a
 * setting is a change to this file only: add a property to its group above
 * with its type, its `default` and, where useful, the annotations of
 * {@link SettingAnnotations}, and the same field to {@link Settings} (the
 * compiler checks they agree). It is then read from the config file (same
 * nesting, JSON) and from the environment (`CHAPKIT_<GROUP>_<NAME>`,
 * camelCase turned to UPPER_SNAKE), validated, shown by `chapkit config`.
 */
export const SettingsSchema: TObject = schema;

/** Every setting, resolved and typed. Kept equal to the schema by the check below. */
export interface Settings {
  /** The HTTP server (restart to change). */
  server: {
    /** TCP port; 0 picks a free one (`PORT`, default 8000). */
    port: number;
    /** Interface to bind (`HOST`, default `127.0.0.1`; `0.0.0.0` in containers). */
    host: string;
    /** Milliseconds readiness answers 503 before the server stops accepting, on SIGTERM or `$drain` (default 0; 5000 behind Kubernetes). */
    drainDelayMs: number;
    /** Reload when the config file changes (default true). */
    watchConfig: boolean;
    /** Milliseconds in-flight requests may take to finish on shutdown (default 10 000). */
    graceMs: number;
  };
  /** The store. */
  database: {
    /** `sqlite::memory:` (default), `sqlite:./file.db` or `postgres://…` (`DATABASE_URL`; a secret). */
    url: string;
    /** Consecutive connection failures that open the PostgreSQL store's circuit (default 3). */
    breakerThreshold: number;
    /** Milliseconds between probes of the PostgreSQL server while its circuit is open (default 500). */
    breakerProbeMs: number;
    /** PostgreSQL read replicas (`DATABASE_REPLICA_URLS`, comma-separated; secrets): reads of HTTP requests go to a healthy one. */
    replicaUrls: string[];
    /** Milliseconds a client's reads stay on the primary after its write (default 5000). */
    replicaStickyMs: number;
    /** Milliseconds between health checks of each replica (default 1000). */
    replicaCheckMs: number;
    /** Milliseconds of replay lag beyond which a replica gets no reads (default 10 000; 0: no lag check). */
    replicaMaxLagMs: number;
  };
  /** The query cache of tables that opt in (`withEntity(…, { cache })`). */
  cache: {
    /** `memory` (per instance, default), `redis` or `memcached` (shared by every instance). */
    store: "memory" | "redis" | "memcached";
    /** Redis URL of the `redis` cache and bus (`REDIS_URL`; a secret). */
    redisUrl: string;
    /** Server of the `memcached` cache (`MEMCACHED_URL`, default `memcached://127.0.0.1:11211`). */
    memcachedUrl: string;
    /** Prefix of the Redis and Memcached keys and of the Redis channel (default `chapkit:cache:`). */
    keyPrefix: string;
    /** Invalidation transport of memory caches between instances (default `auto`). */
    bus: "auto" | "postgres" | "redis" | "none";
  };
  /** Logging. */
  log: {
    /** Lowest level written (`LOG_LEVEL`, default `info`; reloadable). */
    level: "debug" | "info" | "warn" | "error";
    /** `console` (default) or `json` (`LOG_FORMAT`). */
    format: "console" | "json";
  };
  /** HTTP limits. */
  http: {
    /** Largest accepted JSON request body in bytes (default 10 MiB); larger ones answer 413. */
    maxBodyBytes: number;
    /** Largest `$train`, `$predict` and `$validate` body in bytes (default 256 MiB). */
    maxMlBodyBytes: number;
    /** Largest `$upload` body in bytes (default 256 MiB). */
    maxUploadBytes: number;
    /** `Strict-Transport-Security` max-age in seconds (default 0: no header). */
    hstsMaxAge: number;
    /** Client addresses (login throttling) from `X-Forwarded-For` (default false). */
    trustProxy: boolean;
    /** Signs list cursors (`CHAPKIT_SECRET`; a secret); absent: generated once and stored in the database. */
    secret?: string;
    /** Milliseconds before a request answers 504 (default 30 000, 0: none; streams exempt; reloadable). */
    requestTimeoutMs: number;
    /** `Cache-Control` of successful GET/HEAD answers per `METHOD /path` rule that set none themselves (reloadable). */
    cacheControl: Record<string, string>;
    /** Per-route timeouts keyed by `METHOD /path` (`*` ends a prefix), over `requestTimeoutMs` (reloadable). */
    routeTimeouts: Record<string, number>;
  };
  /** Load shedding: what a busy instance refuses with 503 + `Retry-After` (all reloadable; health and metrics never shed). */
  load: {
    /** Requests handled at once; 0 (default) for no cap. */
    maxInFlight: number;
    /** Requests that may wait for a slot (default 64). */
    queueSize: number;
    /** Milliseconds a request waits for a slot before 503 (default 1000). */
    queueTimeoutMs: number;
    /** Resident memory in MiB above which requests answer 503; 0 (default) for off. */
    memoryHighWaterMb: number;
    /** `Retry-After` seconds of a shed request (default 1). */
    retryAfterSeconds: number;
  };
  /** Rate limiting (429 + `RateLimit` headers); `enabled`, `policies` and `trustProxy` reload live. */
  rateLimit: {
    /** Whether requests are limited (default false). */
    enabled: boolean;
    /** The policies, each counted separately; a request must fit all that match it. */
    policies: RateLimitPolicySetting[];
    /** `memory` (per instance, default) or `redis` (one combined limit across instances). */
    store: "memory" | "redis";
    /** Redis URL of the `redis` store (`REDIS_URL`; a secret). */
    redisUrl: string;
    /** Prefix of the Redis keys (default `chapkit:ratelimit:`). */
    keyPrefix: string;
    /** Take the client address from `X-Forwarded-For` (default false). */
    trustProxy: boolean;
  };
  /** CORS (off by default; all reloadable). */
  cors: {
    /** Whether preflights are answered and `Access-Control-*` fields sent (default false). */
    enabled: boolean;
    /** Allowed browser origins, or `*`; also allowed past the cross-site write check. */
    origins: string[];
    /** Allow credentials from those origins (default false). */
    credentials: boolean;
    /** `Access-Control-Max-Age` of preflights (default 600). */
    maxAgeSeconds: number;
    /** `Access-Control-Expose-Headers`. */
    exposeHeaders: string[];
  };
  /** Response compression (off by default; reloadable). */
  compression: {
    /** Whether answers are compressed when the client accepts gzip or br (default false). */
    enabled: boolean;
    /** Smallest body compressed, in bytes (default 1024). */
    thresholdBytes: number;
  };
  /** Authentication defaults (used by `withAuth`). */
  auth: {
    /** JWT signing secret, ≥ 32 characters (`CHAPKIT_JWT_SECRET`). */
    jwtSecret?: string;
    /** Static API keys (`CHAPKIT_API_KEYS`, comma-separated). */
    apiKeys: string[];
    /** File of static API keys, one a line (`CHAPKIT_API_KEY_FILE`). */
    apiKeyFile?: string;
    /** First administrator's name (`CHAPKIT_ADMIN_USERNAME`). */
    adminUsername?: string;
    /** First administrator's password (`CHAPKIT_ADMIN_PASSWORD`). */
    adminPassword?: string;
  };
  /** Monitoring (used by `withMonitoring`). */
  monitoring: {
    /** Scrape token for `/metrics` (`CHAPKIT_METRICS_TOKEN`; a secret). */
    metricsToken?: string;
  };
  /** Outbound calls (webhooks, alerts, registration, remote models) through `OutboundPolicy`. */
  outbound: {
    /** Milliseconds one attempt may take, body included (default 10 000). */
    timeoutMs: number;
    /** Retries of a failed idempotent call (default 2). */
    retries: number;
    /** Base of the exponential back-off with full jitter (default 200 ms). */
    backoffMs: number;
    /** Longest wait before a retry, also the longest `Retry-After` honoured (default 5000 ms). */
    maxBackoffMs: number;
    /** Consecutive failures that open an origin's circuit (default 5). */
    breakerThreshold: number;
    /** Milliseconds between trial calls while a circuit is open (default 5000). */
    breakerProbeMs: number;
  };
  /** The job queue (used by `withJobs`). */
  jobs: {
    /** Job lease in milliseconds (`CHAPKIT_JOB_LEASE_MS`, default 60 000; restart to change). */
    leaseMs: number;
  };
  /** The event bus (see docs/events.md; restart to change). */
  events: {
    /** Events kept per instance for realtime subscribers that resume with `Last-Event-ID` (default 1000; none without `withRealtime()`). */
    replayLimit: number;
    /** Collections that publish no events (default none). */
    exclude: string[];
    /** Milliseconds events stay in the PostgreSQL outbox before they are pruned (default 600 000). */
    outboxRetentionMs: number;
  };
  /** Self-registration with chap-core (used by `MLServiceBuilder.withRegistration`). */
  registration: {
    /** chap-core's `.../v2/services/$register` URL (`SERVICEKIT_ORCHESTRATOR_URL`); unset: no registration. */
    orchestratorUrl?: string;
    /** Host chap-core calls back (`SERVICEKIT_HOST`, default the machine's hostname). */
    host?: string;
    /** Port chap-core calls back (`SERVICEKIT_PORT`, default the port listened on). */
    port?: number;
    /** Registration key sent as `X-Service-Key` (`SERVICEKIT_REGISTRATION_KEY`; a secret). */
    key?: string;
    /** Milliseconds between keepalive pings (default 10 000). */
    keepaliveMs: number;
    /** Wait after a 404 ping before registering again (default 30 000 ms). */
    reRegisterGraceMs: number;
    /** Register attempts (default 5). */
    attempts: number;
    /** Wait between register attempts (default 2000 ms). */
    retryDelayMs: number;
    /** How long to wait for the service's own `/health` before registering (default 30 000 ms). */
    readinessTimeoutMs: number;
  };
  /** The sandbox (playground) mode (restart to change; see docs/api.md). */
  sandbox: {
    /** An in-memory store, seeded and reset on a schedule, whatever `database.url` says (`CHAPKIT_SANDBOX=1`, default false). */
    enabled: boolean;
    /** Seconds between resets (default 3600). */
    resetSeconds: number;
  };
  /** Blob storage of payloads (`CHAPKIT_STORAGE_URL`…; restart to change). */
  storage: {
    /** `db:` (default), `file:///path`, `s3://bucket/prefix?endpoint=…`, `azure://container/prefix?account=…` (`CHAPKIT_STORAGE_URL`; not a secret, since `file:` names a directory here: keep credentials in the key settings). */
    url: string;
    /** Compression at rest of compressible payloads: `none` (default), `gzip`, `zstd`. */
    compression: "none" | "gzip" | "zstd";
    /** S3 access key id (`AWS_ACCESS_KEY_ID`; a secret). */
    accessKeyId?: string;
    /** S3 secret access key (`AWS_SECRET_ACCESS_KEY`; a secret). */
    secretAccessKey?: string;
    /** Azure storage account key (`AZURE_STORAGE_KEY`; a secret). */
    azureAccountKey?: string;
    /** Milliseconds unreferenced payloads are kept before garbage collection removes them (default 1 hour). */
    gcGraceMs: number;
    /** Cron expression of the `storage.collect` job (default hourly at :17; empty: not scheduled; needs `withJobs()`). */
    gcCron: string;
    /** Milliseconds an unfinished resumable (tus) upload may stay untouched before garbage collection removes it (default 24 hours). */
    uploadExpiryMs: number;
    /** Cron expression of the `artifacts.retention` job (default hourly at :47; empty: not scheduled; needs `withJobs()`). */
    retentionCron: string;
  };
}

/** One rate-limit policy of the `rateLimit.policies` setting. */
export interface RateLimitPolicySetting {
  /** Names it in the `RateLimit` headers: letters, digits, `_`, `-`. */
  name: string;
  /** Requests per window. */
  limit: number;
  /** Window length in seconds. */
  windowSeconds: number;
  /** What a counter is kept per: client address, API key (or token), authenticated user, route; combined. */
  by: Array<"address" | "key" | "user" | "route">;
  /** `METHOD /path` rules (`*` ends a prefix) the policy applies to; all routes when absent. */
  routes?: string[];
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Fails to compile when Settings and the schema disagree.
const agree: Same<Static<typeof schema>, Settings> = true;
void agree;

/** Settings as code, a config file or the environment give them: any subset. */
export type SettingsInput = { [G in keyof Settings]?: Partial<Settings[G]> };
