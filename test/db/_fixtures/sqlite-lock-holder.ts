/**
 * A process that holds a SQLite file's write lock:
 * `sqlite-lock-holder.ts <path>` opens the file, starts a write transaction,
 * prints `locked`, and rolls back and exits when its stdin closes.
 */
import { openSqlite } from "../../../src/runtime/sqlite.ts";

const [path = ""] = process.argv.slice(2);
const db = await openSqlite(path);
db.script("BEGIN IMMEDIATE");
console.log("locked");
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  db.script("ROLLBACK");
  db.close();
  process.exit(0);
});
