import type { FeatureSlotRow } from "../db/schema/index.js";

/** A feature and its slot in a prediction row. */
export type FeatureSlot = FeatureSlotRow;

/** A model as the monitoring engine sees it. */
export interface RegisteredModel {
  id: number;
  slug: string;
  name: string;
  task: "binary_classification" | "multiclass_classification" | "regression";
  confidenceThreshold: number;
  /** Every feature ever configured, with stable slots; inactive ones left the config. */
  features: FeatureSlot[];
}

/** The active input features of a model, in config order (derived score slots left out). */
export function activeFeatures(model: RegisteredModel): FeatureSlot[] {
  return model.features.filter((f) => f.active && !f.derived);
}

/** Length of the `num` and `cat` arrays of a row of this model (highest slot of each kind). */
export function slotCounts(features: readonly FeatureSlot[]): { num: number; cat: number } {
  let num = 0;
  let cat = 0;
  for (const f of features) {
    if (f.type === "numeric") num = Math.max(num, f.slot);
    else cat = Math.max(cat, f.slot);
  }
  return { num, cat };
}

/**
 * Gives every configured feature a slot. Slots already taken keep their meaning for ever (rows
 * stored earlier still hold their values there), so a feature that left the config keeps its slot
 * but turns inactive, and a new one (or one whose type changed) takes the next free slot.
 */
export function assignSlots(
  existing: readonly FeatureSlot[],
  configured: readonly { name: string; type: "numeric" | "categorical"; derived?: boolean }[],
): FeatureSlot[] {
  const counts = slotCounts(existing);
  const next = { numeric: counts.num, categorical: counts.cat };
  const wanted = new Map(configured.map((f) => [`${f.type}:${f.name}`, f]));
  const kept = existing.map((f) => ({ ...f, active: wanted.has(`${f.type}:${f.name}`) }));
  const result: FeatureSlot[] = [];
  for (const f of configured) {
    const old = kept.find((k) => k.name === f.name && k.type === f.type);
    if (old) result.push(old);
    else {
      next[f.type] += 1;
      result.push({
        name: f.name,
        type: f.type,
        slot: next[f.type],
        active: true,
        ...(f.derived ? { derived: true } : {}),
      });
    }
  }
  for (const k of kept) if (!k.active) result.push(k);
  return result;
}
