import type { ServiceEvent } from "../../core/events/types.ts";
import { type AuthPrincipal, principalOf, requirePermission } from "../auth-guard.ts";
import { conventionalPermission } from "../auth-guard-permissions.ts";
import type { ServiceContext } from "../module.ts";
import { ROW_ACCESS_KEY, type RowAccess, subjectOf } from "../row-policy.ts";
import type { SubscribableCollection } from "./collections.ts";

/** Who is watching: the subscription's request and the principal the auth guard found for it. */
export interface Viewer {
  /** The request that opened the subscription (SSE) or the WebSocket. */
  request: Request;
  /** The authenticated principal; absent without auth or on a public route. */
  principal?: AuthPrincipal;
}

/**
 * Whether a viewer may see the row an event carries. Row policies replace
 * it under {@link ROW_VISIBILITY_KEY}; the default is the collection's read
 * permission.
 */
export type RowVisibility = (viewer: Viewer, event: ServiceEvent, collection: SubscribableCollection) => boolean | Promise<boolean>;

/** The service-context key under which a module may provide its {@link RowVisibility}. */
export const ROW_VISIBILITY_KEY = "realtime.row-visibility";

/** The permission reading a collection needs: its list route's (`config:read` for `/api/v1/config`). */
export function readPermission(collection: SubscribableCollection): string {
  return conventionalPermission("GET", collection.prefix);
}

/** Whether the viewer's credentials hold a permission (true when the request was not authenticated by a guard). */
export function viewerHolds(viewer: Viewer, permission: string): boolean {
  try {
    requirePermission(viewer.request, permission);
    return true;
  } catch {
    return false;
  }
}

/**
 * The default answer to "can this principal see this row": the viewer holds
 * the collection's read permission (always true in a service without auth).
 */
export const canSeeRow: RowVisibility = (viewer, _event, collection) => viewerHolds(viewer, readPermission(collection));

/**
 * The row visibility in force: the one provided under {@link ROW_VISIBILITY_KEY};
 * else {@link canSeeRow} plus, when row policies are on (`ROW_ACCESS_KEY`),
 * the policy's read check on the event's entity.
 */
export function rowVisibilityOf(context: ServiceContext): RowVisibility {
  if (context.has(ROW_VISIBILITY_KEY)) return context.get<RowVisibility>(ROW_VISIBILITY_KEY);
  if (!context.has(ROW_ACCESS_KEY)) return canSeeRow;
  const access = context.get<RowAccess>(ROW_ACCESS_KEY);
  return (viewer, event, collection) => {
    const subject = subjectOf(viewer.principal, viewer.request);
    const entity = event.data.entity as Record<string, unknown>;
    if (!canSeeRow(viewer, event, collection) || !access.canRead(collection.table?.name ?? collection.collection, entity, subject)) return false;
    const check = access.eventVisibility(collection.collection);
    return check ? check(entity, subject) : true;
  };
}

/** The viewer of a request. */
export function viewerOf(request: Request): Viewer {
  const principal = principalOf(request);
  return principal ? { request, principal } : { request };
}
