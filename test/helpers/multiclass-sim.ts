/**
 * A simulated 3-class model for multiclass CBPE tests: x in the plane near one of three class
 * means, y drawn from the true posterior (Gaussian classes, σ = 0.6), and the model's
 * probabilities that posterior sharpened by temperature 0.6 (over-confident), rounded to 3
 * decimals. `pull` moves x towards the centre, where the classes overlap ("shifted class
 * overlap"): the model is right less often while the posterior given x stays the same.
 */
import { normal } from "./monitoring.js";

/** Classes of the simulated model. */
export const SIM_CLASSES = 3;
const MU = [
  [0, 1],
  [-0.87, -0.5],
  [0.87, -0.5],
] as const;
const SIGMA = 0.6;

/** `n` rows: probability vectors, true classes and predicted classes (argmax). */
export function sampleMulticlass(rand: () => number, n: number, pull: number) {
  const probs: number[][] = [];
  const labels: number[] = [];
  const predicted: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = MU[Math.floor(rand() * SIM_CLASSES)] as readonly number[];
    const x0 = (m[0] as number) * (1 - pull) + SIGMA * normal(rand);
    const x1 = (m[1] as number) * (1 - pull) + SIGMA * normal(rand);
    const logits = MU.map((mu) => -((x0 - mu[0]) ** 2 + (x1 - mu[1]) ** 2) / (2 * SIGMA ** 2));
    const top = Math.max(...logits);
    const post = logits.map((l) => Math.exp(l - top));
    let u = rand() * post.reduce((a, b) => a + b, 0);
    let y = 0;
    while (y < SIM_CLASSES - 1 && u > (post[y] as number)) u -= post[y++] as number;
    const sharp = logits.map((l) => Math.exp((l - top) / 0.6));
    const ss = sharp.reduce((a, b) => a + b, 0);
    const p = sharp.map((v) => Math.round((v / ss) * 1000) / 1000);
    probs.push(p);
    labels.push(y);
    predicted.push(p.indexOf(Math.max(...p)));
  }
  return { probs, labels, predicted };
}

/**
 * The sample's vectors as the ingest API accepts them (summing to 1 within 1e-6): the largest
 * probability takes up what the rounding to 3 decimals left over; the argmax is kept.
 */
export function sendable<T extends { probs: number[][] }>(s: T): T {
  const probs = s.probs.map((p) => {
    const top = p.indexOf(Math.max(...p));
    const rest = p.reduce((a, v, k) => (k === top ? a : a + v), 0);
    return p.map((v, k) => (k === top ? Math.round((1 - rest) * 1000) / 1000 : v));
  });
  return { ...s, probs };
}
