import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compareRuns } from "../../bench/lib/compare.ts";
import type { BenchRow } from "../../bench/lib/types.ts";

const row = (name: string, ratio: number | undefined): BenchRow => ({
  suite: "crud",
  case: name,
  store: "bun:sqlite",
  metric: "throughput",
  value: 100,
  unit: "req/s",
  ...(ratio === undefined ? {} : { baseline_value: 100, ratio }),
});

describe("bench --compare", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-bench-compare-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("flags a ratio that fell more than the allowed share, and only that one", () => {
    const saved = [row("GET", 1), row("POST", 0.8), row("list", 0.5), row("gone", 1), row("raw", undefined)];
    const current = [row("GET", 0.95), row("POST", 0.6), row("list", 0.7)];
    const result = compareRuns(saved, current, 0.1);
    assert.deepEqual(result.regressions.map((r) => r.key), ["crud | POST | bun:sqlite | throughput"]);
    assert.ok(Math.abs(result.regressions[0]!.drop - 0.25) < 1e-12);
    assert.equal(result.compared.length, 3);
    assert.deepEqual(result.missing, ["crud | gone | bun:sqlite | throughput"]);
  });

  const run = (saved: BenchRow[], current: BenchRow[], extra: string[] = []) => {
    const a = join(dir, `saved-${Math.random()}.json`);
    const b = join(dir, `current-${Math.random()}.json`);
    writeFileSync(a, JSON.stringify({ header: {}, rows: saved }));
    writeFileSync(b, JSON.stringify({ header: {}, rows: current }));
    const script = new URL("../../bench/run.ts", import.meta.url).pathname;
    return spawnSync(process.execPath, [script, "--compare", a, "--against", b, ...extra], { encoding: "utf8" });
  };

  it("exits 1 naming the regression when a saved run's ratio is beaten by more than the threshold", () => {
    const result = run([row("POST", 1)], [row("POST", 0.85)]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /REGRESSION crud \| POST \| bun:sqlite \| throughput: ratio 1 -> 0.85 \(-15.0%\)/);
  });

  it("exits 0 within the threshold, which --max-regression sets", () => {
    assert.equal(run([row("POST", 1)], [row("POST", 0.85)], ["--max-regression", "20"]).status, 0);
    const ok = run([row("POST", 1)], [row("POST", 0.95)]);
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.stdout, /no regression/);
  });

  it("refuses --compare without a file", () => {
    const script = new URL("../../bench/run.ts", import.meta.url).pathname;
    assert.equal(spawnSync(process.execPath, [script, "--compare"], { encoding: "utf8" }).status, 2);
  });
});
