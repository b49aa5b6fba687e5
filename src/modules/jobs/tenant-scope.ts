import { NotFoundError } from "../../core/errors.ts";
import type { VariableSubject, VariableUser } from "../../core/query/filter-variables.ts";
import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import type { RowAccess } from "../../http/row-policy.ts";
import type { EnqueueOptions, Enqueued, JobFunction, JobHandler, JobHandlerContext, JobListOptions, JobRecord, JobRunner } from "./types.ts";

/**
 * Who submitted each job under tenancy: the principal (and so its tenant)
 * a job runs as and is visible to. Kept beside the jobs table, which stays
 * as the wire contract describes it.
 */
export const JOB_TENANTS_MIGRATION: Migration = {
  module: "jobs_tenancy",
  version: 1,
  name: "principal and tenant of jobs",
  up: `CREATE TABLE "job_tenants" ("job_id" TEXT PRIMARY KEY, "tenant_id" TEXT, "principal" TEXT NOT NULL);
CREATE INDEX "job_tenants_tenant_id_idx" ON "job_tenants" ("tenant_id");`,
  down: `DROP TABLE "job_tenants";`,
};

type Stamp = VariableUser;

/** Jobs recorded per INSERT: 3 parameters each, far below SQLite's and PostgreSQL's limits. */
const RECORDS_PER_INSERT = 300;

/**
 * The job runner as seen under tenancy: a job submitted or enqueued by a
 * principal records it, runs as it (store calls inside the job are scoped
 * to its tenant and bound by its row policies, exactly as in its requests),
 * and is visible only to its tenant: other tenants' jobs answer 404 and are
 * left out of lists. Dedup keys are kept apart per tenant. Jobs without a
 * principal (cron schedules, scripts) run unscoped and only principals
 * without tenant see them.
 */
export function tenantScopedRunner<R extends JobRunner>(runner: R, access: RowAccess, db: Driver): R {
  const tenantOf = (): string | null => access.current()?.user?.tenantId ?? null;
  const stampOf = (): Stamp | null => {
    const user = access.current()?.user;
    return user ? { kind: user.kind ?? null, id: user.id ?? null, name: user.name ?? null, role: user.role ?? null, tenantId: user.tenantId ?? null } : null;
  };
  const record = async (ids: readonly string[], stamp: Stamp): Promise<void> => {
    const principal = JSON.stringify(stamp);
    for (let start = 0; start < ids.length; start += RECORDS_PER_INSERT) {
      const chunk = ids.slice(start, start + RECORDS_PER_INSERT);
      const params: (string | null)[] = [];
      for (const id of chunk) params.push(id, stamp.tenantId ?? null, principal);
      const values = chunk.map(() => "(?, ?, ?)").join(", ");
      await db.exec(`INSERT INTO "job_tenants" ("job_id", "tenant_id", "principal") VALUES ${values} ON CONFLICT ("job_id") DO NOTHING`, params);
    }
  };
  const stampOfJob = async (id: string): Promise<Stamp | null> => {
    const [row] = await db.query<{ principal: string }>(`SELECT "principal" FROM "job_tenants" WHERE "job_id" = ?`, [id]);
    return row ? JSON.parse(row.principal) as Stamp : null;
  };
  const visible = async (id: string): Promise<void> => {
    const tenant = tenantOf();
    if (tenant === null) return;
    if (await tenantOfJob(db, id) !== tenant) throw new NotFoundError(`Job ${id} not found`);
  };
  const asSubject = (stamp: Stamp): VariableSubject => ({ user: stamp, request: null });
  // A tenant's dedup key is stored behind its tenant and shown as given.
  const shown = (job: JobRecord): JobRecord =>
    typeof job.dedup_key === "string" && job.dedup_key.includes("\u001f") ? { ...job, dedup_key: job.dedup_key.slice(job.dedup_key.indexOf("\u001f") + 1) } : job;
  const scopedOptions = (options: EnqueueOptions | undefined, tenant: string | null): EnqueueOptions | undefined =>
    tenant !== null && options?.dedupKey !== undefined ? { ...options, dedupKey: `${tenant}\u001f${options.dedupKey}` } : options;

  const overrides = {
    async submit(fn: JobFunction): Promise<string> {
      const stamp = stampOf();
      if (!stamp) return runner.submit(fn);
      const subject = asSubject(stamp);
      const id = await runner.submit((context) => access.runAs(subject, () => fn(context)));
      await record([id], stamp);
      return id;
    },
    register<P>(name: string, handler: JobHandler<P>): void {
      runner.register(name, {
        ...handler,
        run: async (payload: P, context: JobHandlerContext) => {
          const stamp = await stampOfJob(context.jobId);
          return stamp ? access.runAs(asSubject(stamp), () => handler.run(payload, context)) : handler.run(payload, context);
        },
      });
    },
    enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<Enqueued> {
      return overrides.enqueueMany([{ name, payload, ...(options ? { options } : {}) }]).then(([one]) => one!);
    },
    async enqueueMany(jobs: readonly { name: string; payload: unknown; options?: EnqueueOptions }[]): Promise<Enqueued[]> {
      const many = (runner as unknown as { enqueueMany(jobs: readonly { name: string; payload: unknown; options?: EnqueueOptions }[]): Promise<Enqueued[]> });
      const stamp = stampOf();
      if (!stamp) return many.enqueueMany(jobs);
      const tenant = stamp.tenantId ?? null;
      const scoped = jobs.map((job) => {
        const options = scopedOptions(job.options, tenant);
        return { name: job.name, payload: job.payload, ...(options ? { options } : {}) };
      });
      // One transaction: no instance claims a job before its principal is recorded.
      return await db.transaction(async () => {
        const results = await many.enqueueMany(scoped);
        await record(results.map((result) => result.record.id), stamp);
        return results.map((result) => ({ ...result, record: shown(result.record) }));
      });
    },
    async retry(id: string): Promise<JobRecord> {
      await visible(id);
      return shown(await runner.retry(id));
    },
    async get(id: string): Promise<JobRecord> {
      await visible(id);
      return shown(await runner.get(id));
    },
    async list(options?: JobListOptions): Promise<JobRecord[]> {
      const tenant = tenantOf();
      const records = await runner.list(options);
      if (tenant === null) return records.map(shown);
      const rows = await db.query<{ job_id: string }>(`SELECT "job_id" FROM "job_tenants" WHERE "tenant_id" = ?`, [tenant]);
      const own = new Set(rows.map((row) => row.job_id));
      return records.filter((job) => own.has(job.id)).map(shown);
    },
    async cancel(id: string): Promise<JobRecord> {
      await visible(id);
      return shown(await runner.cancel(id));
    },
    async delete(id: string): Promise<void> {
      await visible(id);
      await runner.delete(id);
      await db.exec(`DELETE FROM "job_tenants" WHERE "job_id" = ?`, [id]);
    },
    async wait(id: string, timeoutMs?: number): Promise<JobRecord> {
      await visible(id);
      return shown(await runner.wait(id, timeoutMs));
    },
  };
  return new Proxy(runner, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof typeof overrides];
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Whether a job's events may reach a subscriber: a principal without tenant
 * sees every job, a tenant's principal only its tenant's (unknown jobs: no).
 */
export function jobEventVisibility(db: Driver): (entity: Record<string, unknown>, subject: VariableSubject) => Promise<boolean> {
  return async (entity, subject) => {
    const tenant = subject.user?.tenantId ?? null;
    if (tenant === null) return true;
    return await tenantOfJob(db, String(entity.id ?? "")) === tenant;
  };
}

/** The tenant a job was submitted under: null without tenant, undefined for a job not recorded. */
async function tenantOfJob(db: Driver, id: string): Promise<string | null | undefined> {
  const [row] = await db.query<{ tenant_id: string | null }>(`SELECT "tenant_id" FROM "job_tenants" WHERE "job_id" = ?`, [id]);
  return row?.tenant_id;
}
