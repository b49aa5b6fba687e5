/**
 * A writer process for the SQLite concurrency test:
 * `sqlite-writer.ts <url> <writer> <rows> <startAtMs>` waits until `startAtMs`,
 * then writes `rows` rows to `items` (half as single inserts, half inside
 * transactions that also update a row), prints `done <writer> <rows>` and
 * exits 0; any error is printed and exits 1.
 */
import { openDatabase } from "../../../src/db/open.ts";
import { createRepository } from "../../../src/db/repository.ts";
import { type Item, item, items } from "../_items.ts";

const [url = "", writer = "w", rowsArg = "0", startArg = "0"] = process.argv.slice(2);
const rows = Number(rowsArg);
const db = await openDatabase(url);
const repo = createRepository<Item>(db, items);
try {
  const wait = Number(startArg) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  for (let i = 0; i < rows; i++) {
    const name = `${writer}-${i}`;
    if (i % 2 === 0) {
      await repo.insert(item(name, { rank: i }));
    } else {
      await repo.transaction(async (tx) => {
        const row = await tx.insert(item(name, { rank: -1 }));
        await tx.update(row.id, { rank: i, tag: writer });
      });
    }
  }
  console.log(`done ${writer} ${rows}`);
  await db.close();
} catch (error) {
  console.error(`writer ${writer} failed:`, error);
  process.exit(1);
}
