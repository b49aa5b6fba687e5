import { readFile } from "node:fs/promises";
import { OutboundPolicy } from "../resilient-fetch.ts";

/**
 * Resolves a `file:` secret reference (Docker and Kubernetes secrets):
 * `file:/run/secrets/db_url` gives the file's text without its final newline.
 *
 * @throws {Error} when the reference is of another kind or the file cannot be read.
 */
export async function resolveFileSecret(reference: string): Promise<string> {
  if (!reference.startsWith("file:")) throw new Error(`unsupported secret reference ${reference.split(":")[0]}:`);
  const path = reference.slice("file:".length).replace(/^\/\/(?=\/)/, "");
  const text = await readFile(path, "utf8");
  return text.replace(/\r?\n$/, "");
}

/** Options of {@link secretResolver}. */
export interface SecretResolverOptions {
  /** Variables naming the secret stores: `VAULT_ADDR`, `VAULT_TOKEN` (and `VAULT_NAMESPACE`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The outbound policy of the calls to the stores (default: 5 s timeout, 2 retries). */
  outbound?: OutboundPolicy;
}

/**
 * Resolves secret references of every supported kind:
 *
 * - `file:/run/secrets/name`: a file's text;
 * - `vault:<mount>/<path>#<key>`: field `key` of a HashiCorp Vault KV v2
 *   secret (`GET $VAULT_ADDR/v1/<mount>/data/<path>` with `X-Vault-Token:
 *   $VAULT_TOKEN`), e.g. `vault:secret/chapkit#database_url`.
 */
export function secretResolver(options: SecretResolverOptions): (reference: string) => Promise<string> {
  const outbound = options.outbound ?? new OutboundPolicy({ timeoutMs: 5000, retries: 2 });
  return async (reference) => {
    if (reference.startsWith("vault:")) return await vaultSecret(reference, options.env, outbound);
    return await resolveFileSecret(reference);
  };
}

async function vaultSecret(reference: string, env: SecretResolverOptions["env"], outbound: OutboundPolicy): Promise<string> {
  const match = /^vault:([^/#]+)\/([^#]+)#(.+)$/.exec(reference);
  if (!match) throw new Error("a Vault reference looks like vault:<mount>/<path>#<key>");
  const [, mount, path, key] = match as unknown as [string, string, string, string];
  const address = env.VAULT_ADDR;
  const token = env.VAULT_TOKEN;
  if (!address || !token) throw new Error("VAULT_ADDR and VAULT_TOKEN must be set to read vault: references");
  const headers: Record<string, string> = { "x-vault-token": token };
  if (env.VAULT_NAMESPACE) headers["x-vault-namespace"] = env.VAULT_NAMESPACE;
  const url = `${address.replace(/\/+$/, "")}/v1/${encodeURIComponent(mount)}/data/${path.split("/").map(encodeURIComponent).join("/")}`;
  const response = await outbound.fetch(url, { headers });
  if (!response.ok) throw new Error(`Vault answered ${response.status} for ${mount}/${path}`);
  const body = await response.json() as { data?: { data?: Record<string, unknown> } };
  const value = body.data?.data?.[key];
  if (typeof value !== "string") throw new Error(`Vault secret ${mount}/${path} has no string field ${key}`);
  return value;
}
