import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { smtpMailer } from "../../../src/integrations/smtp-mailer.ts";
import { bunExecutable, type ServiceProcess, startService } from "../../_support/service-process.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** The text of a quoted-printable body. */
const unquote = (text: string): string =>
  text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

describe("magic links through a real SMTP server", () => {
  let smtp: ServiceProcess;
  let service: AuthTestService;
  let seen = 0;

  /** The next message the SMTP server accepted. */
  async function nextMail(): Promise<Mail> {
    const index = seen++;
    const pattern = new RegExp(`(?:MAIL [A-Za-z0-9+/=]+\\n[^]*?){${index}}MAIL ([A-Za-z0-9+/=]+)\\n`);
    const match = await smtp.waitFor(pattern, 10_000);
    return JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8")) as Mail;
  }
  const tokenOf = (mail: Mail): string => /token=([A-Za-z0-9_-]+)/.exec(unquote(mail.raw))![1]!;
  const ask = (email: string, extra: Record<string, string> = {}) => service.call("POST", "/api/v1/auth/magic-link", { body: { email, ...extra } });
  const redeem = (token: string) => service.call("POST", "/api/v1/auth/magic-link/$redeem", { body: { token } });

  before(async () => {
    const script = new URL("./_smtp-server.ts", import.meta.url).pathname;
    smtp = await startService(script, {}, { executable: bunExecutable(), command: [script] });
    assert.ok(smtp.port, smtp.output());
    service = await authService({
      auth: {
        magicLinks: {
          mailer: smtpMailer({ host: "127.0.0.1", port: smtp.port, from: "Lab <no-reply@lab.test>" }),
          serviceName: "Malaria lab",
          ttlMinutes: 10,
        },
        mfa: { requiredRoles: ["admin"] },
      },
    });
    for (const [username, email, disabled, role] of [["ada", "ada@example.org", false, "viewer"], ["eve", "eve@example.org", true, "viewer"], ["root", "root@example.org", false, "admin"], ["flo", "flo@example.org", false, "viewer"]] as const) {
      const created = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username, password: "a-long-password-1", email, disabled, role } });
      assert.equal(created.status, 201, await created.clone().text());
    }
  });

  after(async () => {
    await service?.close();
    await smtp?.stop();
  });

  it("mails a single-use link to the user's own address, which signs in", async () => {
    const asked = await ask("Ada@Example.org");
    assert.equal(asked.status, 202);
    const mail = await nextMail();
    assert.deepEqual(mail.to, ["ada@example.org"]);
    assert.equal(mail.from, "no-reply@lab.test");
    assert.match(mail.raw, /Subject: Your sign-in link/);
    assert.match(unquote(mail.raw), /Malaria lab/);
    const token = tokenOf(mail);
    const response = await redeem(token);
    assert.equal(response.status, 200, await response.clone().text());
    const pair = await response.json() as { access_token: string };
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json() as { name: string };
    assert.equal(me.name, "ada");
    const again = await redeem(token);
    assert.equal(again.status, 401);
    assert.equal((await again.json() as { type: string }).type, "urn:chapkit:error:unauthorized");
  });

  it("answers an unknown or disabled address exactly like a known one, and mails nothing", async () => {
    const unknown = await ask("nobody@example.org");
    const disabled = await ask("eve@example.org");
    assert.equal(unknown.status, 202);
    assert.equal(disabled.status, 202);
    assert.deepEqual(await unknown.json(), await disabled.json());
    await ask("ada@example.org");
    const mail = await nextMail();
    assert.deepEqual(mail.to, ["ada@example.org"], "the first message after the unknown ones is Ada's");
  });

  it("refuses an expired link", async () => {
    await ask("ada@example.org");
    const token = tokenOf(await nextMail());
    await service.app.chapkit.context.db.exec(`UPDATE "auth_tickets" SET "expires_at" = ? WHERE "purpose" LIKE 'magic_link:%'`, [new Date(Date.now() - 1000).toISOString()]);
    assert.equal((await redeem(token)).status, 401);
  });

  it("opens a page whose fetching does not spend the link; its form does", async () => {
    await ask("ada@example.org");
    const mail = await nextMail();
    const link = /(http:\/\/chapkit\.test\S+token=[A-Za-z0-9_-]+)/.exec(unquote(mail.raw))![1]!;
    const page = await service.app.handle(new Request(link));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");
    const html = await page.text();
    assert.match(html, /<form method="post"/);
    const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
    const posted = await service.app.handle(new Request("http://chapkit.test/api/v1/auth/magic-link/$redeem", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }),
    }));
    assert.equal(posted.status, 200, await posted.clone().text());
  });

  it("sends the browser to redirect_to with the tokens in the fragment, and refuses a foreign one", async () => {
    await ask("ada@example.org", { redirect_to: "/app/" });
    const response = await redeem(tokenOf(await nextMail()));
    assert.equal(response.status, 303);
    const location = response.headers.get("location")!;
    assert.match(location, /^\/app\/#access_token=/);
    assert.equal((await ask("ada@example.org", { redirect_to: "https://evil.example/" })).status, 422);
  });

  it("asks a user whose role requires MFA for a second factor instead of answering tokens", async () => {
    await ask("root@example.org");
    const response = await redeem(tokenOf(await nextMail()));
    assert.equal(response.status, 200);
    const body = await response.json() as Record<string, unknown>;
    assert.equal(body.mfa_required, true);
    assert.equal(body.access_token, undefined);
  });

  it("sends no more than three unexpired links to one user, so no one floods a mailbox", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await ask("flo@example.org")).status, 202);
      assert.deepEqual((await nextMail()).to, ["flo@example.org"]);
    }
    assert.equal((await ask("flo@example.org")).status, 202, "answered as always");
    await ask("ada@example.org");
    assert.deepEqual((await nextMail()).to, ["ada@example.org"], "the fourth link to flo was never sent");
  });

  it("answers 422 for a malformed address and an empty token", async () => {
    assert.equal((await ask("not-an-address")).status, 422);
    assert.equal((await redeem("")).status, 422);
  });
});
