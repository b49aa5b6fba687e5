/** `chap`: an ML service laid out for chap-core (disease cases from climate covariates). */
import type { ProjectTemplate } from "../template.ts";
import { mlTemplate, ML_USAGE } from "./ml.ts";

/**
 * The chap template. It serves the seed (Python Chapkit 0.1) profile over the
 * `ml` template's runner; the chap-core profile's routes are added by its own
 * builder option once the package provides it.
 */
export const chapTemplate: ProjectTemplate = {
  ...mlTemplate,
  name: "chap",
  description: "a chap-core model service: disease cases from rainfall and temperature",
  usage: `${ML_USAGE} chap-core sends rainfall and mean_temperature with disease_cases as the target; ` +
    "check a running service with `npx chapkit test --url URL --profile auto`.",
};
