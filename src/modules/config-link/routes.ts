import { type TObject, type TString, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { UlidSchema } from "../../core/schema.ts";
import { mountOperation, type Operation } from "../../http/crud/operation.ts";
import { locate } from "../artifact/routes.ts";
import { ArtifactOutSchema } from "../artifact/schema.ts";
import { configOutputSchema } from "../config/schema.ts";
import type { ConfigLinkManager } from "./manager.ts";

/** The body of `$link-artifact` and `$unlink-artifact`. */
export const LinkArtifactSchema: TObject<{ artifact_id: TString }> = Type.Object({ artifact_id: UlidSchema }, { title: "LinkArtifactRequest" });

/** The `$config` operation of the artifact router: the config linked to the artifact's root. */
export function artifactConfigOperation(links: ConfigLinkManager): Operation {
  return {
    name: "$config",
    method: "GET",
    summary: "Config of artifact",
    description: "Walks up to the artifact's root and answers the config linked to it; 404 when there is none.",
    response: configOutputSchema(links.configs.dataSchema),
    handler: ({ id, instance }) => links.configOf(id).catch((error) => Promise.reject(locate(error, instance))),
  };
}

/** Options of {@link configLinkRoutes}. */
export interface ConfigLinkRoutesOptions {
  /** The config route prefix, e.g. `/api/v1/config`. */
  configPrefix: string;
  /** OpenAPI tags (default `["config"]`). */
  tags?: string[];
}

/**
 * The link operations of the config router (contract §9 with decisions):
 * `$link-artifact`, `$unlink-artifact` and `$artifacts`.
 */
export function configLinkRoutes(links: ConfigLinkManager, options: ConfigLinkRoutesOptions): AnyElysia {
  const app: AnyElysia = new Elysia();
  const tags = options.tags ?? ["config"];
  const operations: Operation[] = [
    {
      name: "$link-artifact",
      method: "POST",
      summary: "Link artifact to config",
      description: "Links a root artifact to the config. 404 unknown config or artifact, 400 not a root, 409 already linked.",
      body: LinkArtifactSchema,
      status: 204,
      handler: async ({ id, body, instance }) => {
        await links.link(id, (body as { artifact_id: string }).artifact_id).catch((error) => Promise.reject(locate(error, instance)));
      },
    },
    {
      name: "$unlink-artifact",
      method: "POST",
      summary: "Unlink artifact from config",
      description: "Removes the link between this config and the artifact, if there is one (idempotent).",
      body: LinkArtifactSchema,
      status: 204,
      handler: async ({ id, body }) => {
        await links.unlink(id, (body as { artifact_id: string }).artifact_id);
      },
    },
    {
      name: "$artifacts",
      method: "GET",
      summary: "Artifacts linked to config",
      description: "The root artifacts linked to the config; `[]` for an unknown config.",
      response: Type.Array(ArtifactOutSchema),
      handler: ({ id }) => links.artifactsOf(id),
    },
  ];
  for (const operation of operations) mountOperation(app, options.configPrefix, operation, { entity: true, tags });
  return app;
}
