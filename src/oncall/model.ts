/** On-call schedules as the engine sees them: layers that say who is on, and overrides as data. */

/** Who a layer or an override puts on call: a Slack user id, or null for a name no one mapped. */
export interface OnCallPerson {
  /** The Slack user id to page; null when an imported calendar names someone without a mapping. */
  user: string | null;
  /** How to show the person: the user id, or the name the calendar used. */
  label: string;
}

/** One layer of a schedule, however it is defined (a rotation, an imported calendar). */
export interface ScheduleLayer {
  name: string;
  /** Who this layer has on call at instant `ms` (epoch milliseconds); null outside its hours. */
  at(ms: number): OnCallPerson | null;
  /** Every instant in the open span (from, to) at which `at` may change, in any order. */
  edges(from: number, to: number): number[];
}

/** A schedule ready to answer: its layers, lowest first (a later layer wins where it has someone). */
export interface Schedule {
  name: string;
  timezone: string;
  layers: readonly ScheduleLayer[];
}

/**
 * Someone takes over a schedule from `from` to `to` (`/mlops oncall override`). Stored elsewhere;
 * the engine only applies them. An undone override (`undoneAt` set) counts as removed.
 */
export interface Override {
  id: string;
  schedule: string;
  user: string;
  from: Date;
  to: Date;
  undoneAt?: Date | null;
}

/** Where an answer came from: a layer (by index and name) or an override (by id). */
export type OnCallSource = { kind: "layer"; index: number; name: string } | { kind: "override"; id: string };

/** Who is on call at an instant, and why. */
export interface OnCallAt extends OnCallPerson {
  source: OnCallSource;
}

/** A stretch of time with one person on call (a shift, cut by restrictions and overrides). */
export interface Shift extends OnCallAt {
  start: Date;
  end: Date;
}
