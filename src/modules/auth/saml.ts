import { randomBytes } from "node:crypto";
import { ConfigurationError, UnauthorizedError, ValidationError } from "../../core/errors.ts";
import { importPeer } from "../../core/optional-peer.ts";
import type { ExternalIdentity } from "./identities.ts";
import type { OidcRoleMapping } from "./oidc.ts";
import type { Tickets } from "./tickets.ts";

/** The identity provider of `withAuth({ saml })`: its metadata XML, or its entity id, SSO URL and signing certificate. */
export type SamlIdentityProvider =
  | { metadata: string }
  | { entityId: string; ssoUrl: string; certificate: string };

/** Options of `withAuth({ saml })`: chapkit as a SAML 2.0 service provider. */
export interface SamlOptions {
  /** The service's public origin, e.g. `https://lab.example.org`: the assertion consumer service is `{publicUrl}{prefix}/saml/acs`. */
  publicUrl: string;
  /** This service provider's entity id (default `{publicUrl}{prefix}/saml/metadata`). */
  entityId?: string;
  /** The private key (PEM) that signs AuthnRequests. */
  privateKey: string;
  /** Its X.509 certificate (PEM), published in the SP metadata. */
  certificate: string;
  /** Where users sign in: its SSO URL, entity id and signing certificate. */
  idp: SamlIdentityProvider;
  /** Attribute names: `email` (default `email`; else the NameID when it is an address), `name`, and a role mapping. */
  attributes?: { email?: string; name?: string; roles?: { attribute: string; values: OidcRoleMapping["values"] } };
  /** Whether the IdP's e-mail addresses are verified, so they link existing users (default true: a directory asserts them). */
  trustEmail?: boolean;
  /** Create a user at the first login of an unknown person (default true). */
  createUsers?: boolean;
  /** Role of created users when no mapping applies (default `viewer`). */
  defaultRole?: string;
  /** Tenant of created users. */
  tenantId?: string;
  /** Seconds of clock difference tolerated on validity times (default 60). */
  clockSkewSeconds?: number;
  /** Origins besides the service's own that `redirect_to` may name. */
  redirectOrigins?: readonly string[];
  /** Validates XML against the SAML schemas before any use (default the optional `@authenio/samlify-node-xmllint`). */
  schemaValidator?: { validate(xml: string): Promise<unknown> };
}

type Samlify = typeof import("samlify");
type Entities = { lib: Samlify; sp: ReturnType<Samlify["ServiceProvider"]>; idp: ReturnType<Samlify["IdentityProvider"]> };

async function load(name: string, importer: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const loaded = await importPeer(name, "SAML logins", importer) as Record<string, unknown>;
  return (loaded.default as Record<string, unknown> | undefined) ?? loaded;
}

const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]).map(String);

/**
 * SAML 2.0 single sign-on as a service provider, over the optional `samlify`
 * package: SP metadata, AuthnRequests signed with the SP key (redirect
 * binding), and responses (POST binding) whose assertion must be signed by
 * the IdP's certificate, issued by it, addressed to this SP (audience),
 * delivered to this ACS (recipient), in answer to a request of ours
 * (InResponseTo, single use: no IdP-initiated logins) and within its
 * validity times. Every XML document is schema-validated first.
 */
export class SamlLogin {
  readonly #options: SamlOptions;
  readonly #tickets: Tickets;
  readonly #acs: string;
  readonly #entityId: string;
  #entities: Promise<Entities> | undefined;
  #nextId = "";

  /** `prefix` is the auth routes' prefix (the ACS and metadata live under `{prefix}/saml`). */
  constructor(options: SamlOptions, tickets: Tickets, prefix: string) {
    this.#options = options;
    this.#tickets = tickets;
    const base = `${options.publicUrl.replace(/\/$/, "")}${prefix}/saml`;
    this.#acs = `${base}/acs`;
    this.#entityId = options.entityId ?? `${base}/metadata`;
  }

  /** The assertion consumer service URL. */
  get acsUrl(): string {
    return this.#acs;
  }

  #load(): Promise<Entities> {
    this.#entities ??= (async () => {
      const lib = await load("samlify", () => import("samlify")) as unknown as Samlify;
      const validator = this.#options.schemaValidator ?? await load("@authenio/samlify-node-xmllint", () => import("@authenio/samlify-node-xmllint")) as unknown as { validate(xml: string): Promise<unknown> };
      lib.setSchemaValidator(validator);
      const skew = (this.#options.clockSkewSeconds ?? 60) * 1000;
      const sp = lib.ServiceProvider({
        entityID: this.#entityId,
        authnRequestsSigned: true,
        wantAssertionsSigned: true,
        privateKey: this.#options.privateKey,
        signingCert: this.#options.certificate,
        assertionConsumerService: [{ Binding: POST, Location: this.#acs }],
        nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"],
        clockDrifts: [-skew, skew],
        generateID: () => this.#nextId,
      } as never);
      const given = this.#options.idp;
      const idp = lib.IdentityProvider("metadata" in given
        ? { metadata: given.metadata, wantAuthnRequestsSigned: true } as never
        : { entityID: given.entityId, signingCert: given.certificate, singleSignOnService: [{ Binding: REDIRECT, Location: given.ssoUrl }], wantAuthnRequestsSigned: true } as never);
      return { lib, sp, idp };
    })();
    this.#entities.catch(() => (this.#entities = undefined));
    return this.#entities;
  }

  /** The SP metadata XML (entity id, ACS, signing certificate, signed requests and assertions wanted). */
  async metadata(): Promise<string> {
    return (await this.#load()).sp.getMetadata();
  }

  /** Starts a login: the IdP's SSO URL with a signed AuthnRequest and the RelayState of this login. */
  async start(redirectTo: string | null): Promise<string> {
    const { sp, idp } = await this.#load();
    const requestId = `_${randomBytes(20).toString("hex")}`;
    // The RelayState is a single-use ticket naming the request id that the response must answer.
    const relayState = await this.#tickets.issue("saml", { request_id: requestId, redirect_to: redirectTo }, 600);
    // createLoginRequest is synchronous, so the id handed to its generator is this request's.
    this.#nextId = requestId;
    const { id, context } = sp.createLoginRequest(idp, "redirect", { relayState }) as { id: string; context: string };
    if (id !== requestId) throw new ConfigurationError("samlify did not use the request id it was given");
    return context;
  }

  /**
   * Finishes a login at the ACS: the person the IdP asserted and where to go
   * next. @throws {UnauthorizedError} for any failed check.
   */
  async finish(form: { SAMLResponse?: string; RelayState?: string }, roles: { has(role: string): boolean }): Promise<{ identity: ExternalIdentity; redirectTo: string | null }> {
    if (!form.SAMLResponse) throw new ValidationError([{ loc: ["body", "SAMLResponse"], msg: "Field required", type: "missing" }]);
    const ticket = await this.#tickets.redeem("saml", form.RelayState ?? "");
    if (!ticket || typeof ticket.request_id !== "string") throw new UnauthorizedError("Unknown, used or expired SAML login (RelayState)");
    const { lib, sp, idp } = await this.#load();
    let extract: Record<string, unknown>;
    let xml: string;
    try {
      ({ extract, samlContent: xml } = await sp.parseLoginResponse(idp, "post", { body: { SAMLResponse: form.SAMLResponse } }) as { extract: Record<string, unknown>; samlContent: string });
    } catch (error) {
      throw new UnauthorizedError(`SAML response refused: ${error instanceof Error ? error.message : String(error)}`);
    }
    // samlify checked the signature, the issuer and the assertion's validity times; the rest is read
    // from the assertion whose signature verified (never from unsigned parts of the response).
    const [verified, assertion] = lib.SamlLib.verifySignature(xml, { metadata: idp.entityMeta, signatureAlgorithm: undefined } as never) as [boolean, string | null];
    if (!verified || !assertion) throw new UnauthorizedError("SAML response refused: the assertion is not signed by the identity provider");
    const confirmation = lib.Extractor.extract(xml, [{
      key: "confirmation",
      localPath: ["Assertion", "Subject", "SubjectConfirmation", "SubjectConfirmationData"],
      attributes: ["Recipient", "InResponseTo", "NotOnOrAfter"],
      shortcut: assertion,
    }] as never).confirmation as { recipient?: string; inResponseTo?: string; notOnOrAfter?: string } | undefined;
    const audiences = asList(extract.audience);
    if (!audiences.includes(this.#entityId)) throw new UnauthorizedError("SAML response refused: the assertion is addressed to another audience");
    if (confirmation?.recipient !== this.#acs) throw new UnauthorizedError("SAML response refused: the assertion was issued for another recipient");
    if (confirmation.inResponseTo !== ticket.request_id) throw new UnauthorizedError("SAML response refused: it does not answer this login's request");
    const skew = (this.#options.clockSkewSeconds ?? 60) * 1000;
    if (!confirmation.notOnOrAfter || Date.parse(confirmation.notOnOrAfter) + skew <= Date.now()) {
      throw new UnauthorizedError("SAML response refused: the subject confirmation has expired");
    }
    const nameId = typeof extract.nameID === "string" ? extract.nameID : "";
    if (!nameId) throw new UnauthorizedError("SAML response refused: no NameID");
    const attributes = (extract.attributes ?? {}) as Record<string, unknown>;
    const names = this.#options.attributes ?? {};
    const email = asList(attributes[names.email ?? "email"])[0] ?? (nameId.includes("@") ? nameId : null);
    let role: string | null = null;
    if (names.roles) {
      const held = new Set(asList(attributes[names.roles.attribute]));
      role = Object.entries(names.roles.values).find(([value, mapped]) => held.has(value) && roles.has(mapped))?.[1] ?? null;
    }
    return {
      identity: {
        provider: "saml",
        subject: nameId,
        email,
        emailVerified: this.#options.trustEmail ?? true,
        name: names.name ? asList(attributes[names.name])[0] ?? null : null,
        role,
      },
      redirectTo: typeof ticket.redirect_to === "string" ? ticket.redirect_to : null,
    };
  }
}
