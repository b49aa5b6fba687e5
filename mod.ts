export { newUlid } from "./src/core/ulid.ts";
