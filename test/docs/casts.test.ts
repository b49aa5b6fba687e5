/** The terminal walkthroughs in docs/casts/ are valid asciicast v2 recordings of commands that exist. */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const dir = join(import.meta.dirname!, "..", "..", "docs", "casts");
const casts = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".cast")) : [];

describe("docs/casts", () => {
  it("holds the recorded walkthroughs", () => {
    assert.deepEqual(casts.sort(), ["cli.cast", "quickstart.cast"]);
  });

  for (const name of casts) {
    it(`${name} is asciicast v2 with output events in time order`, () => {
      const [head, ...events] = readFileSync(join(dir, name), "utf8").trimEnd().split("\n");
      const header = JSON.parse(head!) as { version: number; width: number; height: number; title: string };
      assert.equal(header.version, 2);
      assert.ok(header.width > 0 && header.height > 0 && header.title.length > 0);
      let last = 0;
      let text = "";
      for (const line of events) {
        const [time, kind, data] = JSON.parse(line) as [number, string, string];
        assert.equal(kind, "o");
        assert.ok(time >= last, `${name}: time goes back at ${time}`);
        last = time;
        text += data;
      }
      assert.ok(events.length > 20);
      assert.doesNotMatch(text, /\/tmp\/|127\.0\.0\.1:1\d{4}/, "no path or port of the recording machine");
      assert.match(text, /\$\u001b\[0m (npm run quickstart|chapkit )/);
    });
  }
});
