/**
 * tsc type-checks the typed-client test on its own: its calls compile, and
 * each `@ts-expect-error` call (a wrong body, path or field) is an error, or
 * tsc reports the directive as unused.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

test("tsc accepts the typed client's calls and rejects the wrong ones", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-eden-"));
  try {
    const config = join(dir, "tsconfig.json");
    writeFileSync(config, JSON.stringify({
      extends: join(ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: true, typeRoots: [join(ROOT, "node_modules/@types")] },
      files: [join(ROOT, "test/examples/typed-client.test.ts")],
      include: [],
    }));
    const tsc = Bun.spawnSync([process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config], { cwd: ROOT });
    const output = tsc.stdout.toString() + tsc.stderr.toString();
    expect(output).toBe("");
    expect(tsc.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
