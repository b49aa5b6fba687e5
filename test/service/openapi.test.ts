import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { functionalRunner } from "../../src/modules/ml/engine/functional-runner.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { Note } from "../http/_api-service.ts";
import { call } from "../http/_notes.ts";
import { notesModule } from "./_notes-module.ts";

describe("openapi document", () => {
  let app: ServiceApp;
  let doc: any;
  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Docs Service", version: "3.1.4", summary: "About" } })
      .withHealth()
      .withSystem()
      .withLandingPage()
      .module(notesModule())
      .build();
    doc = (await call(app, "GET", "/openapi.json")).body;
  });
  after(() => app.chapkit.close());

  it("is OpenAPI 3.1 titled with the display name and version", () => {
    assert.match(doc.openapi, /^3\.1/);
    assert.equal(doc.info.title, "Docs Service");
    assert.equal(doc.info.version, "3.1.4");
  });

  it("lists the service routes", () => {
    for (const path of ["/api/v1/health", "/api/v1/system", "/api/v1/notes", "/api/v1/notes/$schema", "/api/v1/notes/{entity_id}"]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
  });

  it("leaves out /api/v1/info, the landing page and the docs routes", () => {
    for (const path of ["/api/v1/info", "/", "/docs", "/openapi.json", "/docs/scalar.js", "/*"]) {
      assert.equal(doc.paths[path], undefined, `unexpected ${path}`);
    }
  });

  it("names the CRUD path parameter entity_id", () => {
    const parameters = doc.paths["/api/v1/notes/{entity_id}"].get.parameters;
    assert.deepEqual(parameters.map((parameter: { name: string; in: string }) => [parameter.name, parameter.in]), [["entity_id", "path"]]);
  });

  it("gives every operation a summary, tags and a success response", () => {
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        assert.equal(typeof operation.summary, "string", `${method} ${path} summary`);
        assert.ok(operation.tags?.length > 0, `${method} ${path} tags`);
        const success = Object.keys(operation.responses).find((status) => status.startsWith("2"));
        assert.ok(success, `${method} ${path} success response`);
      }
    }
  });

  it("documents the create body and response as named component schemas", () => {
    const create = doc.paths["/api/v1/notes"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema, { $ref: "#/components/schemas/NoteIn" });
    assert.deepEqual(create.responses["201"].content["application/json"].schema, { $ref: "#/components/schemas/NoteOut" });
    assert.equal(doc.components.schemas.NoteOut.title, "NoteOut");
    assert.deepEqual(doc.components.schemas.NoteOut.properties.data, { $ref: "#/components/schemas/NoteData" });
    assert.equal(doc.components.schemas.Problem.title, "Problem");
  });

  it("names every titled schema as a component: no inline schema keeps a title", () => {
    const titled: string[] = [];
    const walk = (value: unknown, where: string): void => {
      if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${where}/${i}`));
      if (value === null || typeof value !== "object") return;
      if (typeof (value as { title?: unknown }).title === "string" && !where.includes("/properties/title")) titled.push(where);
      for (const [key, item] of Object.entries(value)) if (key !== "example") walk(item, `${where}/${key}`);
    };
    walk(doc.paths, "#/paths");
    assert.deepEqual(titled, []);
  });

  it("gives every JSON body and success answer an example that has the schema's required keys", () => {
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const bodies = [
          operation.requestBody?.content?.["application/json"],
          ...Object.entries<any>(operation.responses).filter(([status]) => status.startsWith("2")).map(([, answer]) => answer.content?.["application/json"]),
        ].filter(Boolean);
        for (const body of bodies) assert.ok("example" in body, `${method} ${path} example`);
      }
    }
    const created = doc.paths["/api/v1/notes"].post.responses["201"].content["application/json"].example;
    assert.deepEqual(Object.keys(created).sort(), ["created_at", "data", "id", "title", "updated_at"]);
  });

  it("names the service itself in servers", () => {
    assert.deepEqual(doc.servers, [{ url: "/" }]);
  });

  it("documents the pagination query parameters of the list", () => {
    const names = doc.paths["/api/v1/notes"].get.parameters.map((parameter: { name: string }) => parameter.name);
    assert.ok(names.includes("page") && names.includes("size"), names.join(","));
  });

  it("serves the docs page with its script from the service itself", async () => {
    const page = await call(app, "GET", "/docs");
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('src="/docs/scalar.js"'));
    assert.doesNotMatch(page.text, /cdn\.jsdelivr|unpkg/);
    const script = await app.handle(new Request("http://localhost/docs/scalar.js"));
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    assert.ok((await script.arrayBuffer()).byteLength > 100_000);
  });
});

describe("openapi document of a service with every module on", () => {
  let app: ServiceApp;
  let doc: any;
  before(async () => {
    const runner = functionalRunner({ onTrain: () => ({}), onPredict: (input) => input.future });
    app = await new ServiceBuilder({ info: { display_name: "Everything", version: "1.0.0" } })
      .withSettings({ env: {} })
      .withHealth()
      .withSystem()
      .withLandingPage()
      .withMonitoring()
      .withConfig(Type.Object({ k: Type.Integer({ default: 3 }) }))
      .withArtifacts({ hierarchy: { name: "ml", level_labels: {} }, enableConfigLinking: true })
      .withJobs()
      .withTasks()
      .withMl(runner)
      .withEntity(Note)
      .withFlags()
      .withRealtime()
      .withGraphql()
      .withBatch()
      .withWebhooks()
      .withAuth({ jwtSecret: "j".repeat(48), env: {} })
      .build();
    doc = (await call(app, "GET", "/openapi.json")).body;
  });
  after(() => app.chapkit.close());

  const operations = (): [string, any][] =>
    Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) =>
      Object.entries<any>(item).map(([method, operation]): [string, any] => [`${method.toUpperCase()} ${path}`, operation])
    );
  const successContent = (operation: any): any[] =>
    Object.entries<any>(operation.responses).filter(([status]) => status.startsWith("2")).flatMap(([, answer]) => Object.values(answer.content ?? {}));

  it("gives every operation an example: of its body, its success answer or a parameter", () => {
    const bare: string[] = [];
    const missing: string[] = [];
    for (const [name, operation] of operations()) {
      const media = [...Object.values<any>(operation.requestBody?.content ?? {}), ...successContent(operation)];
      const parameters: any[] = operation.parameters ?? [];
      if (media.length === 0 && parameters.length === 0) {
        bare.push(name);
        continue;
      }
      const shown = media.some((m) => "example" in m || "examples" in m) || parameters.some((p) => "example" in p || "examples" in p);
      if (!shown) missing.push(name);
    }
    assert.deepEqual(missing, []);
    // OpenAPI has no place for an example on an operation without parameters, body or answer.
    assert.deepEqual(bare, ["POST /api/v1/auth/logout"]);
  });

  it("gives every path parameter an example, an id a ULID", () => {
    for (const [name, operation] of operations()) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === "path") assert.ok("example" in parameter, `${name} ${parameter.name}`);
      }
    }
    const [parameter] = doc.paths["/api/v1/notes/{entity_id}"].delete.parameters;
    assert.equal(parameter.example, "01K79YAHJ7BR4E87VVTG8FNBMA");
  });

  it("shows an event stream's example as server-sent event text", () => {
    for (const path of ["/api/v1/notes/$subscribe", "/api/v1/jobs/{job_id}/$stream"]) {
      const example = doc.paths[path].get.responses["200"].content["text/event-stream"].example as string;
      assert.match(example, /^(id: .+\n)?data: \{.*\}\n\n/, path);
    }
  });
});
