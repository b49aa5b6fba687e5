export { ConfigurationError } from "../core/errors.ts";
