import { BaseServiceBuilder } from "./base-service-builder.ts";

/**
 * The full service builder: everything {@link BaseServiceBuilder} offers,
 * plus the domain modules (configs, artifacts, jobs, tasks, ML) as one-line
 * methods over `module(...)`.
 *
 * @example
 * ```ts ignore
 * const app = await new ServiceBuilder({ info: { display_name: "Demo" } })
 *   .withHealth()
 *   .withSystem()
 *   .withLandingPage()
 *   .build();
 * ```
 */
export class ServiceBuilder extends BaseServiceBuilder {
}
