/** Reads an archive record by record, checking its structure, its counts and every blob's SHA-256 as it goes. */
import { createHash } from "node:crypto";
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, corrupt, fromBase64, type Manifest, readRecords, type Trailer } from "./_format.ts";

/** What a reader of an archive is handed, in archive order. */
export interface ArchiveVisitor {
  table(name: string): Promise<void>;
  rows(rows: unknown[][]): Promise<void>;
  /** A blob's bytes: `body` must be read to its end (the digest is checked after). */
  blob(key: string, body: ReadableStream<Uint8Array>): Promise<void>;
  end(trailer: Trailer): Promise<void>;
}

function checkManifest(record: Record<string, unknown>): Manifest {
  if (record.format !== ARCHIVE_FORMAT) throw corrupt(`it is not a chapkit backup (no "${ARCHIVE_FORMAT}" manifest on its first line)`);
  if (typeof record.version !== "number" || record.version > ARCHIVE_VERSION) {
    throw corrupt(`its format version ${String(record.version)} is newer than this chapkit reads (${ARCHIVE_VERSION}): upgrade chapkit`);
  }
  if (!Array.isArray(record.tables) || !Array.isArray(record.migrations) || (record.dialect !== "sqlite" && record.dialect !== "postgres")) {
    throw corrupt("its manifest lacks tables, migrations or dialect");
  }
  return record as unknown as Manifest;
}

/** An archive whose manifest has been read. */
export interface OpenedArchive {
  manifest: Manifest;
  /**
   * Reads the rest to its end, handing each part to `visitor`; throws the
   * {@link corrupt} error of the first defect (bad gzip, bad line, a record
   * out of place, a row of the wrong width, a blob whose bytes do not match
   * its size or SHA-256, counts that disagree with the end record, no end
   * record).
   */
  read(visitor: ArchiveVisitor): Promise<Trailer>;
  /** Stops reading (releases the file). */
  close(): Promise<void>;
}

/** Opens an archive and reads its manifest. @throws the {@link corrupt} error of a file that is no chapkit backup. */
export async function openArchive(archive: ReadableStream<Uint8Array>): Promise<OpenedArchive> {
  const records = readRecords(archive);
  const first = await records.next();
  if (first.done) throw corrupt("it is empty");
  const manifest = checkManifest(first.value);
  return {
    manifest,
    read: (visitor) => readBody(records, manifest, visitor),
    close: async () => void (await records.return(undefined)),
  };
}

async function readBody(records: AsyncGenerator<Record<string, unknown>>, manifest: Manifest, visitor: ArchiveVisitor): Promise<Trailer> {
  const widths = new Map(manifest.tables.map((t) => [t.name, t.columns.length]));
  const counted: Trailer = { tables: {}, blobs: 0, bytes: 0 };
  let table: string | undefined;
  for (;;) {
    const next = await records.next();
    if (next.done) throw corrupt("its end record is missing (the backup did not finish, or the file was cut)");
    const record = next.value;
    if (typeof record.table === "string") {
      if (!widths.has(record.table)) throw corrupt(`table ${record.table} is not in its manifest`);
      table = record.table;
      counted.tables[table] = 0;
      await visitor.table(table);
    } else if (Array.isArray(record.rows)) {
      if (table === undefined) throw corrupt("rows come before any table");
      const width = widths.get(table)!;
      for (const row of record.rows) {
        if (!Array.isArray(row) || row.length !== width) throw corrupt(`a row of ${table} does not have its ${width} columns`);
      }
      counted.tables[table]! += record.rows.length;
      await visitor.rows(record.rows as unknown[][]);
    } else if (typeof record.blob === "string") {
      table = undefined;
      const key = record.blob;
      const hash = createHash("sha256");
      let size = 0;
      let expected: { sha256: unknown; size: unknown } | undefined;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const part = await records.next();
          if (part.done) throw corrupt(`blob ${key} is cut off`);
          if (typeof part.value.data === "string") {
            const bytes = fromBase64(part.value.data);
            hash.update(bytes);
            size += bytes.byteLength;
            controller.enqueue(bytes);
          } else if (typeof part.value.sha256 === "string") {
            expected = { sha256: part.value.sha256, size: part.value.size };
            controller.close();
          } else throw corrupt(`blob ${key} is cut off`);
        },
      }, { highWaterMark: 0 });
      await visitor.blob(key, body);
      // A visitor that stopped early: read the rest, so the digest covers the whole blob.
      if (!body.locked) {
        const reader = body.getReader();
        while (!(await reader.read()).done);
      }
      const digest = hash.digest("hex");
      if (!expected || expected.sha256 !== digest || expected.size !== size) {
        throw corrupt(`blob ${key} does not match its SHA-256 (${String(expected?.sha256)}, read ${digest})`);
      }
      counted.blobs += 1;
      counted.bytes += size;
    } else if (record.end !== undefined) {
      const trailer = record.end as Trailer;
      const tables = trailer?.tables ?? {};
      for (const name of new Set([...Object.keys(tables), ...Object.keys(counted.tables)])) {
        if ((tables[name] ?? 0) !== (counted.tables[name] ?? 0)) {
          throw corrupt(`table ${name} should have ${tables[name] ?? 0} rows, the archive holds ${counted.tables[name] ?? 0}`);
        }
      }
      if (trailer.blobs !== counted.blobs || trailer.bytes !== counted.bytes) {
        throw corrupt(`it should hold ${trailer.blobs} blobs (${trailer.bytes} bytes), it holds ${counted.blobs} (${counted.bytes} bytes)`);
      }
      if (!(await records.next()).done) throw corrupt("records follow its end record");
      await visitor.end(counted);
      return counted;
    } else {
      throw corrupt(`unexpected record ${JSON.stringify(record).slice(0, 80)}`);
    }
  }
}
