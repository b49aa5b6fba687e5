import { createHmac } from "node:crypto";

/** The REST API version requests and SAS tokens speak. */
export const AZURE_VERSION = "2021-08-06";

function sign(key: string, text: string): string {
  return createHmac("sha256", Uint8Array.from(atob(key), (c) => c.charCodeAt(0))).update(text, "utf8").digest("base64");
}

/**
 * The `Authorization: SharedKey` value of a Blob service request
 * ("Authorize with Shared Key", version 2015-02-21 and later). `headers` are
 * lower-case and hold every `x-ms-*` header sent.
 */
export function sharedKeyAuthorization(options: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  account: string;
  key: string;
}): string {
  const h = options.headers;
  const length = h["content-length"] === "0" ? "" : h["content-length"] ?? "";
  const canonicalHeaders = Object.keys(h).filter((name) => name.startsWith("x-ms-")).sort().map((name) => `${name}:${h[name]!.trim()}\n`).join("");
  const params = new Map<string, string[]>();
  for (const [name, value] of options.url.searchParams) params.set(name.toLowerCase(), [...(params.get(name.toLowerCase()) ?? []), value]);
  const canonicalQuery = [...params.keys()].sort().map((name) => `\n${name}:${params.get(name)!.sort().join(",")}`).join("");
  const text = [
    options.method,
    h["content-encoding"] ?? "",
    h["content-language"] ?? "",
    length,
    h["content-md5"] ?? "",
    h["content-type"] ?? "",
    "",
    h["if-modified-since"] ?? "",
    h["if-match"] ?? "",
    h["if-none-match"] ?? "",
    h["if-unmodified-since"] ?? "",
    h["range"] ?? "",
    `${canonicalHeaders}/${options.account}${decodeURIComponent(options.url.pathname)}${canonicalQuery}`,
  ].join("\n");
  return `SharedKey ${options.account}:${sign(options.key, text)}`;
}

/** A service SAS query string for one blob (`sp`: `r` to read, `cw` to write), valid until `expiry`. */
export function blobSas(options: { account: string; key: string; container: string; blob: string; permissions: string; expiry: Date }): string {
  const expiry = options.expiry.toISOString().replace(/\.\d{3}Z$/, "Z");
  const text = [
    options.permissions,
    "",
    expiry,
    `/blob/${options.account}/${options.container}/${options.blob}`,
    "",
    "",
    "",
    AZURE_VERSION,
    "b",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
  ].join("\n");
  const query = new URLSearchParams({ sv: AZURE_VERSION, sr: "b", sp: options.permissions, se: expiry, sig: sign(options.key, text) });
  return query.toString();
}
