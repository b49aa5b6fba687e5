// An OpenID provider for the OIDC login tests: the certified `oidc-provider`
// package in its own process (run with bun: it targets Node APIs). Accounts are
// fixed; the interaction logs in the account named by `login_hint` at once.
import { createServer } from "node:http";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 0);
const redirect = process.env.OIDC_REDIRECT_URIS?.split(",") ?? [];

const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { email: "alice@example.org", email_verified: true, name: "Alice", groups: ["lab-admins"] },
  bob: { email: "bob@example.org", email_verified: false, name: "Bob", groups: [] },
  carol: { email: "carol@example.org", email_verified: true, name: "Carol", groups: ["analysts"] },
};

const server = createServer();
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  const issuer = `http://127.0.0.1:${actual}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: "chapkit",
      client_secret: "chapkit-client-secret-0123456789abcdef",
      redirect_uris: redirect,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    pkce: { required: () => true },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    scopes: ["openid", "email", "profile", "groups", "offline_access"],
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    conformIdTokenClaims: false,
    cookies: { keys: ["test-cookie-key-0123456789"] },
    findAccount: (_ctx: unknown, id: string) => {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  } as never);
  const callback = provider.callback();
  server.on("request", async (req, res) => {
    if (!req.url?.startsWith("/interaction/")) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = String(details.params.login_hint ?? "alice");
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      const missing = (details.prompt.details as { missingOIDCClaims?: string[] });
      grant.addOIDCScope(String(details.params.scope ?? "openid"));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (process.env.OIDC_DEBUG) console.error(JSON.stringify(details.prompt));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });
  console.log(`READY ${actual}`);
});
