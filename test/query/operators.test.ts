import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseListQuery } from "../../src/core/query/list-query.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { SqlRepository } from "../../src/db/repository.ts";
import { testStores } from "../_support/stores.ts";
import { type ItemRecord, itemsTable, seedItems } from "./_fixture.ts";
import { matches } from "./_eval.ts";

// [query parameters, indexes into ITEMS of the rows that match, in id order]
const CASES: [Record<string, string>, number[]][] = [
  [{ name: "weather" }, [0]],
  [{ level: "0" }, [0, 4]],
  [{ "level[eq]": "2" }, [2]],
  [{ "level[ne]": "0" }, [1, 2, 3, 5]],
  [{ "level[gt]": "0" }, [1, 2, 5]],
  [{ "level[gte]": "1" }, [1, 2, 5]],
  [{ "level[lt]": "1" }, [0, 4]],
  [{ "level[lte]": "1" }, [0, 1, 4]],
  [{ "level[in]": "0,3" }, [0, 4, 5]],
  [{ "level[nin]": "0,3" }, [1, 2, 3]],
  [{ "level[isnull]": "true" }, [3]],
  [{ "name[contains]": "eather" }, [0, 1]],
  [{ "name[icontains]": "WEATHER" }, [0, 1, 4]],
  [{ "name[startswith]": "Weather" }, [1]],
  [{ "name[endswith]": "%" }, [2]],
  [{ "name[contains]": "_" }, [2]],
  [{ "name[contains]": "*" }, [3]],
  [{ "name[contains]": "[x]" }, [3]],
  [{ "name[endswith]": "?" }, [3]],
  [{ "name[contains]": "\\" }, [5]],
  [{ "name[icontains]": "\u00fcn" }, []],
  [{ "name[icontains]": "\u00dcN" }, [4]],
  [{ "tag[isnull]": "true" }, [1]],
  [{ "tag[isnull]": "false" }, [0, 2, 3, 4, 5]],
  [{ tag: "" }, [5]],
  [{ "tag[contains]": "A" }, [3]],
  [{ "tag[icontains]": "a" }, [0, 3]],
  [{ active: "true" }, [0, 2, 4]],
  [{ active: "false" }, [1, 3, 5]],
  [{ "score[lt]": "0" }, [2]],
  [{ "score[gte]": "2.25" }, [4, 5]],
  [{ "seen_at[gte]": "2025-01-01T00:00:00Z" }, [0, 2, 5]],
  [{ "seen_at[lt]": "2025-01-01" }, [3]],
  [{ "data.min_samples": "5" }, [0]],
  [{ "data.min_samples": '"5"' }, [1]],
  [{ "data.min_samples[gt]": "4" }, [0, 2]],
  [{ "data.min_samples[lt]": "6" }, [0, 4]],
  [{ "data.min_samples[isnull]": "true" }, [3, 5]],
  [{ "data.ml_type": "trained_model" }, [0, 4]],
  [{ "data.ml_type[icontains]": "TRAINED" }, [0, 4, 5]],
  [{ "data.ml_type[startswith]": "pred" }, [1]],
  [{ "data.ml_type[in]": "predictions,TRAINED_MODEL" }, [1, 5]],
  [{ "data.ml_type[nin]": "predictions,TRAINED_MODEL" }, [0, 2, 3, 4]],
  [{ "data.flag": "true" }, [2]],
  [{ "data.flag": "false" }, [4]],
  [{ "data.flag[ne]": "true" }, [0, 1, 3, 4, 5]],
  [{ "data.nested.k": "x" }, [0]],
  [{ "data.nested.k": "1" }, [5]],
  [{ "data.nested[isnull]": "false" }, [0, 5]],
  [{ "data.arr[isnull]": "false" }, [4]],
  [{ "data[isnull]": "true" }, [3]],
  [{ "data.ml_type": "null" }, [2, 3]],
  [{ filter: '(level = 0 && data.ml_type = "trained_model") || name ~ "station"' }, [0, 1, 4]],
  [{ filter: "!(data.min_samples > 4)" }, [1, 3, 4, 5]],
  [{ filter: 'data.min_samples != 5 && name !~ "weather"' }, [2, 3, 5]],
  [{ level: "0", "data.min_samples[lt]": "3" }, [4]],
];

for (const store of testStores()) {
  describe(`filter operators on ${store.name}`, () => {
    let db: Driver;
    let repo: SqlRepository<ItemRecord>;
    let rows: ItemRecord[];
    before(async () => {
      db = await store.open();
      ({ repo, rows } = await seedItems(db));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    for (const [params, expected] of CASES) {
      const label = new URLSearchParams(params).toString();
      it(`matches ${decodeURIComponent(label)}`, async () => {
        const { query } = parseListQuery(new URLSearchParams(params), { table: itemsTable });
        const found = await repo.findMany(query);
        assert.deepEqual(found.map((row) => row.name), expected.map((i) => rows[i]!.name));
        assert.deepEqual(rows.filter((row) => matches(row as never, query.filter!)).map((row) => row.name), found.map((row) => row.name));
        assert.equal(await repo.count(query), expected.length);
      });
    }
  });
}
