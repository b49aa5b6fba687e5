// A SAML identity provider for the SAML login tests: `samlify` as IdP in its own
// process. POST /sp registers the service provider's metadata; GET /sso takes the
// signed AuthnRequest (redirect binding) and answers, as JSON, the signed
// response a browser would post to the ACS. Query overrides make bad assertions:
// audience, recipient, in_response_to, expires_in (seconds, may be negative).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import * as samlify from "samlify";
import * as validator from "@authenio/samlify-node-xmllint";

const lib = ((samlify as unknown as { default?: typeof samlify }).default ?? samlify) as typeof samlify;
lib.setSchemaValidator(((validator as unknown as { default?: typeof validator }).default ?? validator) as never);

const USERS: Record<string, { email: string; groups: string[] }> = {
  alice: { email: "alice@example.org", groups: ["lab-admins"] },
  carol: { email: "carol@example.org", groups: ["analysts"] },
};

const key = readFileSync(process.env.IDP_KEY!, "utf8");
const cert = readFileSync(process.env.IDP_CERT!, "utf8");
let idp: ReturnType<typeof lib.IdentityProvider>;
let sp: ReturnType<typeof lib.ServiceProvider> | undefined;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
// The statements are XML already; every other value is escaped.
const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (whole, key: string) => key in values ? (key.endsWith("Statement") ? values[key]! : escape(values[key]!)) : whole);

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  try {
    if (req.method === "POST" && url.pathname === "/sp") {
      let body = "";
      for await (const chunk of req) body += chunk;
      sp = lib.ServiceProvider({ metadata: body });
      res.end("ok");
      return;
    }
    if (url.pathname === "/sso" && sp) {
      const query = Object.fromEntries(url.searchParams);
      // The signed octets of the redirect binding: the raw parameters, in this order.
      const raw = new Map(url.search.slice(1).split("&").map((pair) => [pair.split("=")[0]!, pair] as const));
      const octetString = ["SAMLRequest", "RelayState", "SigAlg"].map((name) => raw.get(name)).filter(Boolean).join("&");
      const parsed = await idp.parseLoginRequest(sp, "redirect", { query, octetString } as never);
      const user = USERS[url.searchParams.get("user") ?? "alice"]!;
      const now = new Date();
      const expires = new Date(now.getTime() + Number(url.searchParams.get("expires_in") ?? 300) * 1000).toISOString();
      const acs = (sp.entityMeta as unknown as { getAssertionConsumerService(binding: string): string }).getAssertionConsumerService("post");
      const requestId = (parsed.extract as { request: { id: string } }).request.id;
      const attributes = `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">${escape(user.email)}</saml:AttributeValue></saml:Attribute>` +
        `<saml:Attribute Name="groups">${user.groups.map((g) => `<saml:AttributeValue xsi:type="xs:string">${escape(g)}</saml:AttributeValue>`).join("")}</saml:Attribute></saml:AttributeStatement>`;
      const { context } = await idp.createLoginResponse(sp, parsed as never, "post", { email: user.email }, (template: string) => {
        const id = `_${crypto.randomUUID()}`;
        return {
          id,
          context: fill(template, {
            ID: id,
            AssertionID: `_${crypto.randomUUID()}`,
            Destination: acs,
            Audience: url.searchParams.get("audience") ?? sp!.entityMeta.getEntityID(),
            SubjectRecipient: url.searchParams.get("recipient") ?? acs,
            Issuer: idp.entityMeta.getEntityID(),
            IssueInstant: now.toISOString(),
            StatusCode: "urn:oasis:names:tc:SAML:2.0:status:Success",
            ConditionsNotBefore: new Date(now.getTime() - 1000).toISOString(),
            ConditionsNotOnOrAfter: expires,
            SubjectConfirmationDataNotOnOrAfter: expires,
            NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameID: user.email,
            InResponseTo: url.searchParams.get("in_response_to") ?? requestId,
            AuthnStatement: `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
            AttributeStatement: attributes,
          }),
        };
      }, false, query.RelayState) as { context: string };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ SAMLResponse: context, RelayState: query.RelayState, action: acs }));
      return;
    }
    res.statusCode = 404;
    res.end("not found");
  } catch (error) {
    res.statusCode = 400;
    res.end(`refused: ${error instanceof Error ? error.message : String(error)}`);
  }
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  idp = lib.IdentityProvider({
    entityID: `http://127.0.0.1:${port}/metadata`,
    privateKey: key,
    signingCert: cert,
    wantAuthnRequestsSigned: true,
    singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: `http://127.0.0.1:${port}/sso` }],
    nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
  });
  console.log(`READY ${port}`);
});
