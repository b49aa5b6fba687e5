/**
 * Counts leaf tests in a `deno test --junit-path` report and prints
 * `<passed> <failed> <skipped>`.
 *
 * Deno reports a `describe` block (or a test with `t.step`s) as a test case and
 * each step as another case named `parent > step`. Bun counts only the leaves,
 * so this does too: a case is a leaf when no other case is named `<it> > …`. A
 * parent that failed while none of its steps did (a failing hook) counts as one
 * failure. A missing report counts as nothing; the caller decides from the
 * runner's exit code.
 *
 * Usage: `bun scripts/count-junit.ts report.xml`, or with `--failed` before the
 * path: one line per failed leaf, `<file>: <name>`.
 */
import { existsSync, readFileSync } from "node:fs";

interface Case {
  name: string;
  file: string;
  failed: boolean;
  skipped: boolean;
}

/**
 * Parses the test cases out of a JUnit XML report; a case's file is its test suite's name.
 * Deno files the steps of `node:test` groups under a suite of its own (`ext:deno_node/…`):
 * such a step takes the file of the top-level case its name starts with.
 */
export function parseCases(xml: string): Case[] {
  const cases: Case[] = [];
  const suites = /<testsuite\b([^>]*?)>([\s\S]*?)<\/testsuite>/g;
  const pattern = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const suite of xml.matchAll(suites)) {
    const file = /\bname="([^"]*)"/.exec(suite[1] ?? "")?.[1] ?? "";
    for (const match of (suite[2] ?? "").matchAll(pattern)) {
      const name = /\bname="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? "";
      const body = match[3] ?? "";
      cases.push({ name, file, failed: /<(failure|error)\b/.test(body), skipped: /<skipped\b/.test(body) });
    }
  }
  const fileOfRoot = new Map<string, string>();
  for (const c of cases) if (!c.file.startsWith("ext:") && !fileOfRoot.has(c.name)) fileOfRoot.set(c.name, c.file);
  for (const c of cases) {
    if (c.file.startsWith("ext:")) c.file = fileOfRoot.get(c.name.split(" &gt; ")[0] ?? "") ?? c.file;
  }
  return cases;
}

/** Counts leaf cases: passed, failed, skipped. */
export function countLeaves(cases: readonly Case[]): { passed: number; failed: number; skipped: number } {
  const relations = family(cases);
  let passed = 0;
  let skipped = 0;
  for (const c of cases) {
    if (relations.parents.has(c.name)) continue;
    if (c.skipped) skipped++;
    else if (!c.failed) passed++;
  }
  return { passed, failed: failedLeaves(cases, relations).length, skipped };
}

/** The cases counted as failures: failed leaves, and failed parents none of whose steps failed. */
export function failedLeaves(cases: readonly Case[], relations = family(cases)): Case[] {
  const { parents, parentsOfFailures } = relations;
  return cases.filter((c) => c.failed && (parents.has(c.name) ? !parentsOfFailures.has(c.name) : !c.skipped));
}

function family(cases: readonly Case[]): { parents: Set<string>; parentsOfFailures: Set<string> } {
  const SEP = " &gt; ";
  // Every proper prefix of a case name is a parent; a parent with a failing descendant is noted too.
  const parents = new Set<string>();
  const parentsOfFailures = new Set<string>();
  for (const c of cases) {
    const parts = c.name.split(SEP);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(SEP);
      parents.add(parent);
      if (c.failed) parentsOfFailures.add(parent);
    }
  }
  return { parents, parentsOfFailures };
}

if (import.meta.main) {
  const listFailed = process.argv[2] === "--failed";
  const path = process.argv[listFailed ? 3 : 2];
  if (!path) {
    console.error("usage: count-junit.ts [--failed] report.xml");
    process.exit(2);
  }
  const xml = existsSync(path) ? readFileSync(path, "utf8") : "";
  const cases = parseCases(xml);
  if (listFailed) {
    const text = (s: string): string => s.replaceAll("&gt;", ">").replaceAll("&lt;", "<").replaceAll("&quot;", '"').replaceAll("&amp;", "&");
    for (const c of failedLeaves(cases)) console.log(`${text(c.file)}: ${text(c.name)}`);
  } else {
    const { passed, failed, skipped } = countLeaves(cases);
    console.log(`${passed} ${failed} ${skipped}`);
  }
}
