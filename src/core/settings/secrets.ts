import { createHash, createHmac } from "node:crypto";
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
 *   $VAULT_TOKEN`), e.g. `vault:secret/chapkit#database_url`;
 * - `aws-sm:<secret-id>` or `aws-sm:<secret-id>#<key>`: an AWS Secrets
 *   Manager secret string (or field `key` of its JSON), read with
 *   `GetSecretValue` signed with Signature V4 from `AWS_ACCESS_KEY_ID`,
 *   `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`) in `AWS_REGION`
 *   (`AWS_ENDPOINT_URL_SECRETS_MANAGER` overrides the endpoint).
 */
export function secretResolver(options: SecretResolverOptions): (reference: string) => Promise<string> {
  const outbound = options.outbound ?? new OutboundPolicy({ timeoutMs: 5000, retries: 2 });
  return async (reference) => {
    if (reference.startsWith("vault:")) return await vaultSecret(reference, options.env, outbound);
    if (reference.startsWith("aws-sm:")) return await awsSecret(reference, options.env, outbound);
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

const sha256 = (data: string): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** Signature V4 headers of a POST of `body` to `url` for `service` in `region` (AWS's documented algorithm). */
export function signAwsRequest(
  url: URL,
  body: string,
  headers: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string; service: string },
  now: Date = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const all: Record<string, string> = { ...headers, host: url.host, "x-amz-date": amzDate };
  if (credentials.sessionToken) all["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(all).map((name) => name.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([name, value]) => [name.toLowerCase(), value.trim()]));
  const canonical = ["POST", url.pathname || "/", "", ...names.map((name) => `${name}:${lower[name]}`), "", names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${credentials.region}/${credentials.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), credentials.region), credentials.service), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    ...all,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

async function awsSecret(reference: string, env: SecretResolverOptions["env"], outbound: OutboundPolicy): Promise<string> {
  const [id = "", key] = reference.slice("aws-sm:".length).split("#");
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!id || !region || !accessKeyId || !secretAccessKey) {
    throw new Error("aws-sm:<secret-id> needs AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  const url = new URL(env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? `https://secretsmanager.${region}.amazonaws.com/`);
  const body = JSON.stringify({ SecretId: id });
  const headers = signAwsRequest(url, body, {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "secretsmanager.GetSecretValue",
  }, { accessKeyId, secretAccessKey, region, service: "secretsmanager", ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) });
  delete headers.host;
  const response = await outbound.fetch(url, { method: "POST", headers, body });
  if (!response.ok) throw new Error(`AWS Secrets Manager answered ${response.status} for ${id}`);
  const secret = (await response.json() as { SecretString?: string }).SecretString;
  if (typeof secret !== "string") throw new Error(`AWS secret ${id} has no SecretString`);
  if (key === undefined) return secret;
  const value = (JSON.parse(secret) as Record<string, unknown>)[key];
  if (typeof value !== "string") throw new Error(`AWS secret ${id} has no string field ${key}`);
  return value;
}
