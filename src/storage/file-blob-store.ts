import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { newUlid } from "../core/ulid.ts";
import { type BlobBody, type BlobInfo, type BlobStore, type ByteRange, checkBlobKey, wholeBlob } from "./blob-store.ts";
import { fromIterable, pieces } from "./_streams.ts";

const READ_SIZE = 256 * 1024;
// Where writes in progress live, inside the root so the final rename stays on one file system.
const STAGING = ".staging";

function missing(error: unknown): boolean {
  return (error as { code?: string }).code === "ENOENT";
}

/**
 * Blobs as files under a root directory (`file:///var/lib/chapkit/blobs`):
 * the key is the relative path. A write goes to a staging file that is
 * flushed and renamed into place, so readers see the old file or the new.
 */
export class FileBlobStore implements BlobStore {
  /** Always `file`. */
  readonly kind = "file";
  /** The root directory. */
  readonly root: string;

  /** Opens the store at `root` (created on first write). */
  constructor(root: string) {
    this.root = root;
  }

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    const target = this.#path(key);
    const staging = join(this.root, STAGING, newUlid());
    await mkdir(join(this.root, STAGING), { recursive: true });
    const file = await open(staging, "w");
    let size = 0;
    try {
      for await (const piece of pieces(body, READ_SIZE)) {
        await file.write(piece);
        size += piece.byteLength;
      }
      await file.sync();
      await file.close();
      await mkdir(join(target, ".."), { recursive: true });
      await rename(staging, target);
    } catch (error) {
      await file.close().catch(() => {});
      await rm(staging, { force: true });
      throw error;
    }
    return { key, size };
  }

  async get(key: string): Promise<Uint8Array | null> {
    return await wholeBlob(await this.stream(key));
  }

  async stream(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    let file;
    try {
      file = await open(this.#path(key), "r");
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
    const size = (await file.stat()).size;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size - 1, size - 1);
    const handle = file;
    return fromIterable((async function* () {
      try {
        for (let position = start; position <= end;) {
          const buffer = new Uint8Array(Math.min(READ_SIZE, end + 1 - position));
          const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
          if (bytesRead === 0) return;
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    })());
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      return { key, size: (await stat(this.#path(key))).size };
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    const path = this.#path(key);
    if (!(await this.head(key))) return false;
    await rm(path, { force: true });
    return true;
  }

  async *list(prefix = ""): AsyncIterable<BlobInfo> {
    const keys: string[] = [];
    const walk = async (dir: string, base: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (missing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (base === "" && entry.name === STAGING) continue;
        const key = base === "" ? entry.name : `${base}/${entry.name}`;
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(this.root, "");
    keys.sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const target = this.#path(to);
    await mkdir(join(target, ".."), { recursive: true });
    await rename(this.#path(from), target);
  }

  presign(_key: string): Promise<string | null> {
    return Promise.resolve(null);
  }

  #path(key: string): string {
    return join(this.root, ...checkBlobKey(key).split("/"));
  }
}
