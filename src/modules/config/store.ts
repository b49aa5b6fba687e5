import { ConflictError } from "../../core/errors.ts";
import type { InsertValues, UpdateValues, WriteCondition } from "../../core/repository.ts";
import type { Driver } from "../../db/driver.ts";
import { SqlRepository } from "../../db/repository.ts";
import { type ConfigRecord, configsTable } from "./schema.ts";

// The first key of the advisory locks that serialise config-name checks on PostgreSQL.
const NAME_LOCK_SPACE = 0x636667;
/** Holds a config name until the transaction ends (PostgreSQL). */
const LOCK_NAME_SQL = `SELECT pg_advisory_xact_lock(${NAME_LOCK_SPACE}, hashtext(?)) AS "locked"`;

/** The message of a name conflict. */
export function nameTakenMessage(name: string): string {
  return `Config name '${name}' already exists`;
}

/**
 * Where configs live: the `configs` table. A unique violation on `name`
 * (a concurrent writer won the race) becomes a 409 naming the config.
 */
export class ConfigStore extends SqlRepository<ConfigRecord> {
  /** Opens the store on a migrated database. */
  constructor(db: Driver) {
    super(db, configsTable);
  }

  /** The config with this exact name, or null. */
  async findByName(name: string): Promise<ConfigRecord | null> {
    const [record] = await this.findMany({
      filter: { kind: "compare", field: "name", op: "eq", value: name },
      limit: 1,
    });
    return record ?? null;
  }

  /** The id of the config holding this name, or null (an index-only lookup for the name check). */
  async idOfName(name: string): Promise<string | null> {
    const [row] = await this.db.query<{ id: string }>(`SELECT "id" FROM "configs" WHERE "name" = ?`, [name]);
    return row?.id ?? null;
  }

  /**
   * Within a transaction, holds the name until it ends so that a concurrent
   * writer's name check waits (PostgreSQL advisory lock; a SQLite transaction
   * already holds the connection exclusively).
   */
  async lockName(name: string): Promise<void> {
    if (this.db.dialect === "postgres") await this.db.query(LOCK_NAME_SQL, [name]);
  }

  /** Whether a config other than `ownId` holds this name (an index-only lookup). */
  async nameHeldByOther(name: string, ownId: string | null): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT "id" FROM "configs" WHERE "name" = ? AND "id" <> ? LIMIT 1`,
      [name, ownId ?? ""],
    );
    return rows.length > 0;
  }

  /**
   * Inserts a config unless another holds its name, in one statement after the
   * name's lock (the insert's snapshot taken once the lock is held, so it sees
   * every committed holder). Runs in the caller's transaction, or a new one.
   * On PostgreSQL both statements are pipelined and the record answered as
   * stored: a transaction that writes nothing else before its end (its event
   * included) reaches the server in one round trip, and a taken name fails
   * it with the conflict.
   * @throws {ConflictError} when the name is taken (from the transaction's end when pipelined).
   */
  insertWithFreeName(values: InsertValues<ConfigRecord>): Promise<ConfigRecord> {
    const taken = () => new ConflictError(nameTakenMessage(values.name));
    const condition = { sql: `NOT EXISTS (SELECT 1 FROM "configs" WHERE "name" = ?)`, params: [values.name] };
    const write = async (): Promise<ConfigRecord> => {
      let record: ConfigRecord | null;
      if (this.db.dialect !== "postgres") {
        // SQLite: the transaction holds the file, so no other writer can take the name meanwhile.
        record = await this.insertWhere(values, condition, taken);
      } else {
        // Pipelined, the lock is not waited for: its failure fails the transaction.
        const locked = this.db.pipeline?.(LOCK_NAME_SQL, [values.name]) !== undefined;
        [, record] = await Promise.all([locked ? undefined : this.lockName(values.name), this.insertWhere(values, condition, taken)]);
      }
      if (!record) throw taken();
      return record;
    };
    return this.atomic(write);
  }

  /** Inserts rows; a name conflict answers 409 naming the config. */
  override async insertMany(values: InsertValues<ConfigRecord>[]): Promise<ConfigRecord[]> {
    try {
      return await super.insertMany(values);
    } catch (error) {
      throw renameConflict(error, values.length === 1 ? values[0]?.name : undefined);
    }
  }

  /** Updates a row; a name conflict answers 409 naming the config. */
  override async update(id: string, values: UpdateValues<ConfigRecord>, condition?: WriteCondition): Promise<ConfigRecord | null> {
    try {
      return await super.update(id, values, condition);
    } catch (error) {
      throw renameConflict(error, values.name);
    }
  }
}

function renameConflict(error: unknown, name: string | undefined): unknown {
  if (!(error instanceof ConflictError) || name === undefined) return error;
  return new ConflictError(nameTakenMessage(name), { cause: error });
}

/** Opens the config store on a database (the `config` migrations must have run). */
export function createConfigStore(db: Driver): ConfigStore {
  return new ConfigStore(db);
}
