/** The binary payload of an artifact: its bytes and their media type. */
export interface ArtifactPayload {
  /** The content, stored verbatim. */
  bytes: Uint8Array;
  /** The media type, e.g. `application/octet-stream`, `application/onnx`. */
  contentType: string;
}

/**
 * A payload already put in the content store (`ArtifactManager.storeContent`),
 * e.g. streamed from an upload: only its digest, size and media type travel.
 */
export interface StoredPayload {
  /** SHA-256 (hex) of the bytes. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** The media type. */
  contentType: string;
}

/** A payload to attach to an artifact: bytes at hand, or content already stored. */
export type PayloadInput = ArtifactPayload | StoredPayload;

/** An artifact's payload opened for reading: its metadata and a stream of the bytes asked for. */
export interface PayloadStream {
  /** The media type. */
  contentType: string;
  /** The size of the whole payload. */
  size: number;
  /** SHA-256 (hex) of the whole payload, the strong validator of downloads. */
  digest: string;
  /** The bytes (of the range asked for, else all). */
  stream: ReadableStream<Uint8Array>;
}

/** How a JSON value that stands for a binary payload is rendered. */
export interface PayloadPlaceholder {
  /** Always `bytes`. */
  _type: "bytes";
  /** Always `chapkit`. */
  _module: "chapkit";
  /** `<N bytes, TYPE>`. */
  _repr: string;
  /** Where the bytes are: `Binary content: download it from $download.` */
  _serialization_error: string;
  /** Size in bytes. */
  _size: number;
  /** Media type of the bytes. */
  _content_type: string;
}

/**
 * The marker a creator puts in an artifact's `data` where the binary payload
 * belongs (e.g. `{ ml_type: "trained_model", config_id, model: PAYLOAD_MARKER }`).
 * {@link ArtifactManager.create} replaces it by the payload's placeholder.
 * Any object equal to `{"$chapkit":"payload"}` counts; it is only read when a
 * payload accompanies the data.
 */
export const PAYLOAD_MARKER: Readonly<{ $chapkit: "payload" }> = Object.freeze({ $chapkit: "payload" });

/** Whether a value is the payload marker. */
export function isPayloadMarker(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (value as { $chapkit?: unknown }).$chapkit === "payload";
}

/** The placeholder that renders a payload of `size` bytes of `contentType` (decisions: binary content). */
export function payloadPlaceholder(size: number, contentType: string): PayloadPlaceholder {
  return {
    _type: "bytes",
    _module: "chapkit",
    _repr: `<${size} bytes, ${contentType}>`,
    _serialization_error: "Binary content: download it from $download.",
    _size: size,
    _content_type: contentType,
  };
}

/** Whether a JSON value is a payload placeholder (e.g. the `model` of a trained-model artifact). */
export function isPayloadPlaceholder(value: unknown): value is PayloadPlaceholder {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const candidate = value as Partial<PayloadPlaceholder>;
  return candidate._type === "bytes" && candidate._module === "chapkit" && typeof candidate._size === "number";
}

/** Replaces every payload marker inside `data` (at any depth) by `placeholder`. */
export function substituteMarkers(data: unknown, placeholder: PayloadPlaceholder): unknown {
  if (isPayloadMarker(data)) return { ...placeholder };
  if (Array.isArray(data)) return data.map((item) => substituteMarkers(item, placeholder));
  if (typeof data === "object" && data !== null) {
    return Object.fromEntries(Object.entries(data).map(([key, item]) => [key, substituteMarkers(item, placeholder)]));
  }
  return data;
}
