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
 * Usage: `bun scripts/count-junit.ts report.xml`
 */
import { existsSync, readFileSync } from "node:fs";

interface Case {
  name: string;
  failed: boolean;
  skipped: boolean;
}

/** Parses the test cases out of a JUnit XML report. */
export function parseCases(xml: string): Case[] {
  const cases: Case[] = [];
  const pattern = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const match of xml.matchAll(pattern)) {
    const name = /\bname="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? "";
    const body = match[3] ?? "";
    cases.push({ name, failed: /<(failure|error)\b/.test(body), skipped: /<skipped\b/.test(body) });
  }
  return cases;
}

/** Counts leaf cases: passed, failed, skipped. */
export function countLeaves(cases: readonly Case[]): { passed: number; failed: number; skipped: number } {
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
  const hasChildren = (name: string): boolean => parents.has(name);
  const failedBelow = (name: string): boolean => parentsOfFailures.has(name);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const c of cases) {
    if (hasChildren(c.name)) {
      if (c.failed && !failedBelow(c.name)) failed++;
    } else if (c.skipped) skipped++;
    else if (c.failed) failed++;
    else passed++;
  }
  return { passed, failed, skipped };
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: count-junit.ts report.xml");
    process.exit(2);
  }
  const xml = existsSync(path) ? readFileSync(path, "utf8") : "";
  const { passed, failed, skipped } = countLeaves(parseCases(xml));
  console.log(`${passed} ${failed} ${skipped}`);
}
