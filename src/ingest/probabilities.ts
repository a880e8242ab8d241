/**
 * The optional probability vector of a multiclass prediction, `{"<class>": p, ...}`: the rules
 * shared by the zod schema and the hot-path validator, so both refuse the same rows.
 */
import { isStorable } from "../shared/storable.js";

/** Largest number of classes a probability vector may name. */
export const MAX_CLASSES = 1000;
/** How far a vector's sum may stray from 1 (float rounding of a softmax). */
export const SUM_TOLERANCE = 1e-6;

/** Why `value` is not a valid probability vector for `prediction`, or null when it is. */
export function probabilitiesProblem(value: unknown, prediction: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return 'expected an object of class probabilities, e.g. {"cat": 0.7, "dog": 0.3}';
  let n = 0;
  let sum = 0;
  for (const name in value) {
    n++;
    if (name.length < 1 || name.length > 200 || !isStorable(name))
      return "class names have 1 to 200 storable characters";
    const p = (value as Record<string, unknown>)[name];
    if (typeof p !== "number" || !(p >= 0 && p <= 1))
      return `the probability of class ${JSON.stringify(name.slice(0, 40))} must be a number from 0 to 1`;
    sum += p;
  }
  if (n < 2 || n > MAX_CLASSES) return `expected 2 to ${MAX_CLASSES} classes; got ${n}`;
  if (Math.abs(sum - 1) > SUM_TOLERANCE) return `the probabilities must sum to 1 (±1e-6); they sum to ${sum}`;
  if (!Object.hasOwn(value, String(prediction)))
    return `the predicted class ${JSON.stringify(String(prediction).slice(0, 40))} is not among them`;
  return null;
}
