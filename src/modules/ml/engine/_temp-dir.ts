// Private temp dirs of the shell runner (node: built-ins that Bun and Deno share).
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Python's tempfile names: 8 characters from this alphabet.
const NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";

/**
 * Runs `body` in a fresh private directory `<base>/<prefix>XXXXXXXX` and
 * always removes the directory afterwards.
 */
export async function withTempDir<T>(prefix: string, base: string | undefined, body: (dir: string) => Promise<T>): Promise<T> {
  const parent = base ?? tmpdir();
  let dir = "";
  for (let attempt = 0; ; attempt++) {
    const suffix = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => NAME_CHARS[b % NAME_CHARS.length]);
    dir = join(parent, prefix + suffix.join(""));
    try {
      await mkdir(dir, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST" || attempt > 100) throw error;
    }
  }
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
