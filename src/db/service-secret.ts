import type { Driver } from "./driver.ts";
import type { Migration } from "./migration.ts";

/** The `chapkit_secrets` table: secrets a service generates once and every instance shares. */
export const SERVICE_SECRET_MIGRATIONS: readonly Migration[] = [{
  module: "chapkit",
  version: 1,
  name: "create chapkit_secrets",
  up: `CREATE TABLE "chapkit_secrets" ("name" TEXT PRIMARY KEY, "value" TEXT NOT NULL);`,
  down: `DROP TABLE "chapkit_secrets";`,
}];

/**
 * The secret named `name` in the store: generated (32 random bytes) by the
 * first instance that asks, then read by every other, so instances behind a
 * load balancer sign alike (list cursors) without configuration. A store
 * that cannot be written (read-only) gets a secret of this process only.
 */
export async function storedSecret(db: Driver, name: string): Promise<string> {
  const read = async (): Promise<string | undefined> =>
    (await db.query<{ value: string }>(`SELECT "value" FROM "chapkit_secrets" WHERE "name" = ?`, [name]))[0]?.value;
  const fresh = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const known = await read();
  if (known !== undefined) return known;
  try {
    await db.exec(`INSERT INTO "chapkit_secrets" ("name", "value") VALUES (?, ?) ON CONFLICT ("name") DO NOTHING`, [name, fresh]);
  } catch {
    return fresh;
  }
  return (await read()) ?? fresh;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
