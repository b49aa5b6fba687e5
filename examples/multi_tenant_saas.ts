/**
 * A multi-tenant SaaS: several organisations share one deployment and one
 * database, and none can reach another's projects, users or API keys. The
 * platform operator (a static key) creates each organisation's admin; that
 * admin then manages its own users and keys, and everything they create is
 * scoped to their organisation.
 *
 *   CHAPKIT_API_KEYS=platform-key-change-me JWT_SECRET=… bun examples/multi_tenant_saas.ts   (PORT, DATABASE_URL)
 *
 *   # the operator creates the admin of organisation "acme"
 *   curl -s localhost:8000/api/v1/auth/users -H 'X-API-Key: platform-key-change-me' -H 'content-type: application/json' \
 *     -d '{"username":"acme-admin","password":"a-long-password","role":"admin","tenant_id":"acme"}'
 *   # acme's admin logs in and works only inside acme
 *   curl -s localhost:8000/api/v1/auth/login -H 'content-type: application/json' -d '{"username":"acme-admin","password":"a-long-password"}'
 */
import { Type } from "@sinclair/typebox";
import { defineEntity, ServiceBuilder } from "chapkit";

/** A project of one organisation; `tenant_id` is filled by the service from the caller. */
export const Project = defineEntity({
  table: "projects",
  fields: {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    status: Type.Union([Type.Literal("active"), Type.Literal("archived")], { default: "active" }),
    tenant_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  searchable: ["name"],
});

/** Options of {@link createSaas}. */
export interface SaasOptions {
  /** The store (default in memory). */
  databaseUrl?: string;
  /** Keys of the platform operator, who sees and manages every organisation. */
  platformKeys: string[];
  /** Secret that signs access tokens (at least 32 characters). */
  jwtSecret: string;
}

/** The SaaS service: projects scoped per organisation, with users, keys and logins per organisation. */
export function createSaas(options: SaasOptions): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "Projects SaaS" }, databaseUrl: options.databaseUrl ?? "sqlite::memory:" })
    .withHealth()
    .withEntity(Project)
    .withAuth({ staticKeys: options.platformKeys, jwtSecret: options.jwtSecret, tenancy: { tables: ["projects"] } });
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const platformKeys = (env.CHAPKIT_API_KEYS ?? "").split(",").map((key) => key.trim()).filter(Boolean);
  if (platformKeys.length === 0 || !env.JWT_SECRET) throw new Error("Set CHAPKIT_API_KEYS (the platform key) and JWT_SECRET to start this example");
  await createSaas({ databaseUrl: env.DATABASE_URL ?? "sqlite:./saas.db", platformKeys, jwtSecret: env.JWT_SECRET }).listen();
}
