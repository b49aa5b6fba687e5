// A tiny command line over the password functions, run by the other runtime in tests:
//   hash <password> [ln]       prints an encoded hash
//   verify <password> <hash>  prints true or false
import { hashPassword, verifyPassword } from "../../../src/modules/auth/password.ts";

const process = (globalThis as unknown as { process: { argv: string[]; stdout: { write(s: string): void } } }).process;
const [command, password = "", extra = ""] = process.argv.slice(2);
if (command === "hash") {
  process.stdout.write(await hashPassword(password, { ln: extra ? Number(extra) : 10, r: 8, p: 1 }));
} else if (command === "verify") {
  process.stdout.write(String(await verifyPassword(password, extra)));
} else {
  throw new Error(`unknown command ${command}`);
}
