import type { MachineInfo } from "./machine.js";

/** One line of a section's target table (and of the summary at the top of BENCHMARKS.md). */
export interface TargetRow {
  target: string;
  measured: string;
  /** The comparison measured in the same run, or "—". */
  baseline: string;
  /** null: reported only, no target to meet. */
  met: boolean | null;
  /** When missed: why, and what would fix it (listed under the summary). */
  missed?: string;
}

/** What a bench hands back: its table plus free-form markdown (method, per-run details). */
export interface Section {
  /** Stable id: the bench name, also the CLI filter and the marker in BENCHMARKS.md. */
  id: string;
  title: string;
  /** ISO timestamp of the measurement. */
  measuredAt: string;
  /** One-line machine description, so a section kept from an earlier run says where it came from. */
  machine: string;
  rows: TargetRow[];
  /** Markdown under the table: how each figure was measured, raw per-run numbers. */
  body: string;
}

/** Shared by all benches of one `npm run bench`. */
export interface BenchContext {
  machine: MachineInfo;
  log(message: string): void;
}

/** A bench module: `run.ts` runs them in order and renders their sections in that order. */
export interface Bench {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<Section>;
}
