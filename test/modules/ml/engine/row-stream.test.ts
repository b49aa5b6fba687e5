import assert from "node:assert/strict";
import { test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { CsvFieldCounter, CsvRecordSplitter } from "../../../../src/modules/ml/engine/_csv.ts";
import { readFrames, RowChecker, rowFormatOf, RowWriter } from "../../../../src/modules/ml/engine/row-stream.ts";

const encoder = new TextEncoder();

function streamOf(text: string, pieceSize: number): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + pieceSize));
      at += pieceSize;
    },
  });
}

const TRICKY = 'name,note,value\r\n"a, b","say ""hi""",1\r\n\r\nc,"two\nlines",2.5\nd,,\n"e""",x,3';

test("the CSV splitter reads the same records whatever the piece boundaries", () => {
  const whole: string[][] = [];
  const splitter = new CsvRecordSplitter();
  splitter.push(TRICKY, whole);
  splitter.end(whole);
  assert.deepEqual(whole, [
    ["name", "note", "value"],
    ["a, b", 'say "hi"', "1"],
    ["c", "two\nlines", "2.5"],
    ["d", "", ""],
    ['e"', "x", "3"],
  ]);
  for (let size = 1; size <= 7; size++) {
    const out: string[][] = [];
    const pieces = new CsvRecordSplitter();
    for (let i = 0; i < TRICKY.length; i += size) pieces.push(TRICKY.slice(i, i + size), out);
    pieces.end(out);
    assert.deepEqual(out, whole, `pieces of ${size}`);
  }
});

test("the CSV field counter counts the fields the splitter splits, whatever the piece boundaries", () => {
  for (let size = 1; size <= 7; size++) {
    const counts: number[] = [];
    const counter = new CsvFieldCounter();
    for (let i = 0; i < TRICKY.length; i += size) counter.push(TRICKY.slice(i, i + size), (n) => counts.push(n));
    counter.end((n) => counts.push(n));
    assert.deepEqual(counts, [3, 3, 3, 3, 3], `pieces of ${size}`);
  }
  const counts: number[] = [];
  const ragged = new CsvFieldCounter();
  ragged.push('a,b\n"x,y"\n1,2,3\n,\n', (n) => counts.push(n));
  ragged.end((n) => counts.push(n));
  assert.deepEqual(counts, [2, 1, 3, 2]);
});

test("readFrames yields CSV chunks of chunkRows rows with DataFrame.fromCSV's dtypes", async () => {
  const text = "x,flag\n" + Array.from({ length: 25 }, (_, i) => `${i},${i % 2 === 0 ? "True" : "False"}`).join("\n") + "\n";
  const chunks = [];
  for await (const chunk of readFrames(streamOf(text, 13), "csv", { chunkRows: 10 })) chunks.push(chunk);
  assert.deepEqual(chunks.map((c) => [c.firstRow, c.frame.rowCount]), [[0, 10], [10, 10], [20, 5]]);
  assert.deepEqual(chunks[0]!.frame.dtypes, DataFrame.fromCSV(text).dtypes);
  assert.equal(chunks.at(-1)!.bytesRead, encoder.encode(text).length);
  assert.deepEqual(chunks[2]!.frame.values("x"), [20, 21, 22, 23, 24]);
});

test("readFrames reads NDJSON objects, columns in first-seen order, missing keys null", async () => {
  const text = '{"a":1,"b":"x"}\n\n{"b":"y","c":true}\n{"a":3}';
  const chunks = [];
  for await (const chunk of readFrames(streamOf(text, 5), "ndjson", { chunkRows: 2 })) chunks.push(chunk.frame.toJSON());
  assert.deepEqual(chunks, [
    { columns: ["a", "b", "c"], data: [[1, "x", null], [null, "y", true]] },
    { columns: ["a", "b", "c"], data: [[3, null, null]] },
  ]);
});

test("readFrames refuses a ragged CSV row and an NDJSON line that is not an object", async () => {
  const drain = async (text: string, format: "csv" | "ndjson"): Promise<void> => {
    for await (const _ of readFrames(streamOf(text, 4), format)) { /* read all */ }
  };
  await assert.rejects(drain("a,b\n1,2\n3\n", "csv"), /Row 1 has 1 values but the header has 2 columns/);
  await assert.rejects(drain('{"a":1}\n[1]\n', "ndjson"), /Line 2: Each line must be a JSON object/);
});

test("the row checker counts rows and locates every bad one, up to its limit", () => {
  const checker = new RowChecker("csv", { maxErrors: 2 });
  checker.push(encoder.encode("a,b\n1,2\n3\n4,5,6\n7,8\n9\n"));
  checker.end();
  assert.equal(checker.rows, 5);
  assert.deepEqual(checker.errors.map((e) => e.loc), [["body", "rows", 1], ["body", "rows", 2]]);
  assert.equal(checker.full, true);
  const empty = new RowChecker("csv");
  empty.end();
  assert.equal(empty.errors[0]!.type, "missing");
  const lines = new RowChecker("ndjson");
  lines.push(encoder.encode('{"a":1}\nnot json\n'));
  lines.end();
  assert.deepEqual(lines.errors.map((e) => e.loc), [["body", "rows", 1]]);
  assert.match(lines.errors[0]!.msg, /^Line 2: Invalid JSON/);
});

test("the row writer writes the CSV header once and later chunks in its columns", () => {
  const writer = new RowWriter("csv");
  const first = writer.write(DataFrame.fromJSON({ columns: ["x", "y"], data: [[1, 2.5]] }));
  const second = writer.write(DataFrame.fromJSON({ columns: ["y", "z"], data: [[3.5, 0]] }));
  assert.equal(first + second, "x,y\n1,2.5\n,3.5\n");
  const ndjson = new RowWriter("ndjson");
  assert.equal(ndjson.write(DataFrame.fromJSON({ columns: ["x"], data: [[1], [null]] })), '{"x":1}\n{"x":null}\n');
  assert.equal(new RowWriter("csv").end(["x", "sample_0"]), "x,sample_0\n");
});

test("media types name row formats", () => {
  assert.equal(rowFormatOf("text/csv; charset=utf-8"), "csv");
  assert.equal(rowFormatOf("application/x-ndjson"), "ndjson");
  assert.equal(rowFormatOf("application/jsonl"), "ndjson");
  assert.equal(rowFormatOf("application/json"), null);
});
