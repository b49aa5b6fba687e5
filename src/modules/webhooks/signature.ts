import { Buffer } from "node:buffer";
import { nodeCrypto } from "../../runtime/builtins.ts";

/** The key bytes of a Standard Webhooks secret (`whsec_<base64>`). */
function keyOf(secret: string): Uint8Array {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  return new Uint8Array(Buffer.from(encoded, "base64"));
}

/**
 * The Standard Webhooks signature of a message: `v1,` + base64 of
 * HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the secret's
 * decoded bytes. `timestamp` is in seconds.
 *
 * @example
 * ```ts
 * import { signWebhook } from "./signature.ts";
 * signWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
 * // "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
 * ```
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = nodeCrypto().createHmac("sha256", keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/**
 * Whether a received message is signed with `secret`: one of the
 * space-separated `webhook-signature` entries matches (compared in constant
 * time). Receivers should also refuse old timestamps.
 */
export function verifyWebhook(secret: string, headers: Headers, body: string): boolean {
  const id = headers.get("webhook-id");
  const timestamp = Number(headers.get("webhook-timestamp"));
  const signatures = headers.get("webhook-signature");
  if (!id || !Number.isInteger(timestamp) || !signatures) return false;
  const expected = new TextEncoder().encode(signWebhook(secret, id, timestamp, body));
  return signatures.split(" ").some((candidate) => {
    const given = new TextEncoder().encode(candidate);
    return given.length === expected.length && nodeCrypto().timingSafeEqual(given, expected);
  });
}
