import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { hashPassword, needsRehash, parsePasswordHash, verifyPassword } from "../../../src/modules/auth/password.ts";
import { RUNTIME } from "../../_support/stores.ts";

const CLI = fileURLToPath(new URL("./_password-cli.ts", import.meta.url).href);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url).href);
const OTHER = RUNTIME === "bun" ? "deno" : "bun";
const COST = { ln: 10, r: 8, p: 1 };

/** Runs the password CLI under the other runtime (a real subprocess). */
function other(args: string[]): Promise<string> {
  const bin = `${ROOT}node_modules/.bin/${OTHER}`;
  const argv = OTHER === "deno" ? ["run", "-A", CLI, ...args] : [CLI, ...args];
  return new Promise((resolve, reject) => {
    execFile(bin, argv, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${OTHER} failed: ${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

describe("password hashing", () => {
  it("writes a self-describing scrypt hash", async () => {
    const encoded = await hashPassword("correct horse battery", COST);
    assert.match(encoded, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.ok(!encoded.includes("correct horse"));
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const encoded = await hashPassword("correct horse battery", COST);
    assert.equal(await verifyPassword("correct horse battery", encoded), true);
    assert.equal(await verifyPassword("correct horse batterY", encoded), false);
  });

  it("salts every hash", async () => {
    assert.notEqual(await hashPassword("same", COST), await hashPassword("same", COST));
  });

  it("refuses malformed hashes and out-of-bounds costs", async () => {
    for (const bad of ["", "plain", "$scrypt$ln=40,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=1,t=1,p=1$AA$AA"]) {
      assert.equal(await verifyPassword("x", bad), false, bad);
      assert.equal(parsePasswordHash(bad), null);
    }
  });

  it("asks for a rehash when the stored cost is below the current one", async () => {
    const cheap = await hashPassword("pw", COST);
    assert.equal(needsRehash(cheap, { ln: 15, r: 8, p: 1 }), true);
    assert.equal(needsRehash(cheap, COST), false);
  });

  it(`verifies on ${OTHER} a hash written on ${RUNTIME}`, async () => {
    const encoded = await hashPassword("pässwörd across runtimes", COST);
    assert.equal(await other(["verify", "pässwörd across runtimes", encoded]), "true");
    assert.equal(await other(["verify", "wrong", encoded]), "false");
  });

  it(`verifies on ${RUNTIME} a hash written on ${OTHER}`, async () => {
    const encoded = await other(["hash", "pässwörd across runtimes", "11"]);
    assert.match(encoded, /^\$scrypt\$ln=11,/);
    assert.equal(await verifyPassword("pässwörd across runtimes", encoded), true);
    assert.equal(await verifyPassword("wrong", encoded), false);
  });
});
