// Types of values.js: the JSON mapping and codec objects (docs/values.md).

/**
 * A codec of the application's, given as a cache's `codec` option: `encode` returns the
 * bytes to store (a string is stored as its UTF-8), `decode` gets them back (a Buffer on
 * Node, a Uint8Array on the edge). What either throws is an EncodeError / DecodeError with
 * the thrown value as `cause`.
 */
export interface CodecObject<V = unknown> {
  encode(value: V): Uint8Array | string
  decode(bytes: Uint8Array): V
}

/** @internal JSON text of a value with the shared mapping (EncodeError for what it cannot hold). */
export declare function jsonText(value: unknown, what?: string): string
/** @internal the value of stored JSON text (DecodeError when it is not JSON). */
export declare function parseJson(text: string): unknown
/** @internal whether the `codec` option is an object rather than a name. */
export declare function isCodecObject(codec: unknown): codec is object
/** @internal options for the core: a codec object's bytes are stored as the bytes codec's. */
export declare function coreOptions<O extends { codec?: unknown }>(opts: O | undefined): O | undefined
/** @internal the codec object, checked, with its results and failures held to the contract. */
export declare function codecObject<B extends Uint8Array>(
  codec: object,
  bytes: (u8: Uint8Array) => B,
): { encode(value: unknown): B; decode(bytes: B): unknown }
