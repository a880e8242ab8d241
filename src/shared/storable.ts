/** Text Postgres cannot store: NUL, and UTF-16 surrogates without their pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Replaces what Postgres cannot store in text or jsonb (NUL, unpaired UTF-16 surrogates) with
 * U+FFFD throughout a parsed body or a row about to be written (plain objects and arrays; dates and
 * other instances are left alone), so a stray byte in a user id, or a text cut at its length cap in
 * the middle of an emoji, cannot make the timeline, audit or outbox insert fail (and take a whole
 * audit batch with it).
 */
export function storableStrings<T>(value: T, depth = 0): T {
  if (typeof value === "string") return value.replace(/\0/g, "\ufffd").replace(LONE_SURROGATE, "\ufffd") as T;
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => storableStrings(v, depth + 1)) as T;
  // Dates, buffers and other class instances are stored by their own rules, not as fields.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Own keys only, and never a prototype: JSON.parse makes `__proto__` an own key, but assigning it
    // here would set the copy's prototype instead.
    if (k === "__proto__") continue;
    out[storableStrings(k, depth + 1)] = storableStrings(v, depth + 1);
  }
  return out as T;
}

const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether Postgres can store `text` as it is (no NUL, no unpaired surrogate). */
export function isStorable(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** The message for text that is not storable, for 400 answers. */
export const UNSTORABLE_MESSAGE = "contains a NUL character or broken UTF-16 (an unpaired surrogate)";
