import { createHash, createHmac } from "node:crypto";

/** Credentials of an S3-compatible service (HMAC keys on GCS). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' session token (sent as `x-amz-security-token`). */
  sessionToken?: string;
}

/** The hash S3 accepts for a body it should not verify. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** Hex SHA-256 of bytes or text. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** RFC 3986 encoding as SigV4 wants it (`/` kept in paths). */
export function uriEncode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

function signingKey(secret: string, date: string, region: string): Uint8Array {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), "s3"), "aws4_request");
}

function signature(options: { method: string; url: URL; headers: Record<string, string>; payloadHash: string; credentials: S3Credentials; region: string; stamp: string }): { signedHeaders: string; signature: string; scope: string } {
  const names = Object.keys(options.headers).map((name) => name.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const signedHeaders = names.join(";");
  const canonical = [
    options.method,
    uriEncode(decodeURIComponent(options.url.pathname), true),
    canonicalQuery(options.url),
    names.map((name) => `${name}:${lower[name]}\n`).join(""),
    signedHeaders,
    options.payloadHash,
  ].join("\n");
  const date = options.stamp.slice(0, 8);
  const scope = `${date}/${options.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", options.stamp, scope, sha256Hex(canonical)].join("\n");
  const sig = createHmac("sha256", signingKey(options.credentials.secretAccessKey, date, options.region)).update(toSign).digest("hex");
  return { signedHeaders, signature: sig, scope };
}

/**
 * Signs a request with AWS Signature Version 4 (header form): returns the
 * headers to send, `authorization` included. `headers` must not hold `host`.
 */
export function signRequest(options: {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  payloadHash: string;
  credentials: S3Credentials;
  region: string;
  now?: Date;
}): Record<string, string> {
  const stamp = amzDate(options.now ?? new Date());
  const headers: Record<string, string> = {
    ...options.headers,
    host: options.url.host,
    "x-amz-content-sha256": options.payloadHash,
    "x-amz-date": stamp,
    ...(options.credentials.sessionToken ? { "x-amz-security-token": options.credentials.sessionToken } : {}),
  };
  const signed = signature({ ...options, headers, stamp });
  const { host: _host, ...rest } = headers;
  return {
    ...rest,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${signed.scope}, SignedHeaders=${signed.signedHeaders}, Signature=${signed.signature}`,
  };
}

/** A presigned URL (SigV4 query form) valid for `expiresIn` seconds. */
export function presignUrl(options: { method: string; url: URL; credentials: S3Credentials; region: string; expiresIn: number; now?: Date }): string {
  const stamp = amzDate(options.now ?? new Date());
  const url = new URL(options.url);
  const scope = `${stamp.slice(0, 8)}/${options.region}/s3/aws4_request`;
  url.searchParams.set("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  url.searchParams.set("X-Amz-Credential", `${options.credentials.accessKeyId}/${scope}`);
  url.searchParams.set("X-Amz-Date", stamp);
  url.searchParams.set("X-Amz-Expires", String(options.expiresIn));
  url.searchParams.set("X-Amz-SignedHeaders", "host");
  if (options.credentials.sessionToken) url.searchParams.set("X-Amz-Security-Token", options.credentials.sessionToken);
  const signed = signature({ ...options, url, headers: { host: url.host }, payloadHash: UNSIGNED_PAYLOAD, stamp });
  url.searchParams.set("X-Amz-Signature", signed.signature);
  return url.toString();
}
