import { readFile } from "node:fs/promises";

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
