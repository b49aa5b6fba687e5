import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addDeadline, cancelDeadline } from "../../src/http/_deadlines.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("request deadlines", () => {
  test("each deadline expires once, in order, not before its time; cancelled ones never", async () => {
    const fired: string[] = [];
    const started = performance.now();
    const at: Record<string, number> = {};
    const add = (name: string, ms: number) =>
      addDeadline(ms, () => {
        fired.push(name);
        at[name] = performance.now() - started;
      });
    const a = add("a", 30);
    const b = add("b", 30);
    add("c", 30);
    const long = add("long", 80);
    add("short", 10);
    cancelDeadline(b);
    // The head of its queue cancelled: the rest still expire.
    cancelDeadline(a);
    await sleep(150);
    assert.deepEqual(fired, ["short", "c", "long"]);
    assert.ok(at.short! >= 9, `short fired after ${at.short} ms`);
    assert.ok(at.c! >= 29, `c fired after ${at.c} ms`);
    assert.ok(at.long! >= 79, `long fired after ${at.long} ms`);
    assert.equal(long.done, true);
    // Cancelling an expired deadline changes nothing.
    cancelDeadline(long);
    await sleep(20);
    assert.deepEqual(fired, ["short", "c", "long"]);
  });

  test("a queue that emptied watches the next deadline, and one added while others expire is kept", async () => {
    const fired: string[] = [];
    const first = addDeadline(20, () => fired.push("first"));
    cancelDeadline(first);
    addDeadline(20, () => {
      fired.push("second");
      addDeadline(20, () => fired.push("added while expiring"));
    });
    await sleep(100);
    assert.deepEqual(fired, ["second", "added while expiring"]);
  });

  test("thousands of short requests leave nothing behind and later deadlines still fire", async () => {
    for (let i = 0; i < 5000; i++) cancelDeadline(addDeadline(40, () => assert.fail("a cancelled deadline fired")));
    let fired = 0;
    addDeadline(40, () => fired++);
    await sleep(120);
    assert.equal(fired, 1);
  });
});
