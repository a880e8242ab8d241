import type { Db } from "../db/index.js";
import type { CanaryComparison } from "./canary.js";
import type { ApprovalStatus, Candidate, RetrainRequest } from "./model.js";
import type { RegistryVersion } from "./registry.js";

/** Where a retraining message goes: a channel, and the outbox row of the post it replies under. */
export interface ThreadTarget {
  channel: string;
  parentId: number | null;
}

/** Everything the approval card shows. */
export interface CandidateCard {
  candidate: Candidate;
  modelName: string;
  status: ApprovalStatus;
  /** Reject reasons by person. */
  rejections: { userId: string; reason: string | null }[];
  now: Date;
  /** The candidate as the model registry describes it, when the model has one. */
  registry?: RegistryLookup;
  /** A promoted candidate that is still the champion may be rolled back to the previous one. */
  rollbackable?: boolean;
}

/** Where a candidate's registry look-up stands. */
export type RegistryLookup =
  | { state: "pending" }
  | { state: "found"; version: RegistryVersion }
  | { state: "failed"; error: string };

/** The alias a promote or roll back moved in the registry. */
export interface AliasMoved {
  alias: string;
  modelName: string;
  to: string;
}

/** A thread message, said in domain terms; the Slack layer words it. */
export type RetrainingNote =
  | { kind: "retrain_requested"; request: RetrainRequest; modelName: string; incidentRef: string | null }
  | { kind: "pipeline_started"; request: RetrainRequest; runUrl: string | null }
  | { kind: "pipeline_failed"; request: RetrainRequest; error: string }
  | { kind: "approved"; candidate: Candidate; actor: string; status: ApprovalStatus }
  | { kind: "rejected"; candidate: Candidate; actor: string; reason: string }
  | { kind: "expired"; candidate: Candidate }
  | { kind: "canary_started"; candidate: Candidate }
  | { kind: "deploy_failed"; candidate: Candidate; action: "canary" | "promote" | "rollback"; error: string }
  | { kind: "promoted"; candidate: Candidate; actor: string; registry?: AliasMoved }
  | { kind: "rolled_back"; candidate: Candidate; actor: string; registry?: AliasMoved }
  | { kind: "registry_lookup_failed"; candidate: Candidate; error: string }
  | {
      kind: "registry_disagrees";
      model: string;
      modelName: string;
      alias: string;
      registryVersion: string | null;
      botChampion: string | null;
    }
  | { kind: "registry_unreadable"; model: string; error: string };

/**
 * Slack writes of the retraining feature, queued in the caller's transaction (the outbox). Each
 * returns the id of the outbox row that will deliver it.
 */
export interface RetrainingNotifier {
  /** A top-level post that starts a thread (a retrain with no incident). */
  post(tx: Db, channel: string, note: RetrainingNote): Promise<number>;
  reply(tx: Db, target: ThreadTarget, note: RetrainingNote): Promise<number>;
  postCard(tx: Db, target: ThreadTarget, card: CandidateCard): Promise<number>;
  updateCard(tx: Db, card: CandidateCard): Promise<number>;
  /** The live comparison, with Promote / Roll back when `actions`. */
  postComparison(
    tx: Db,
    target: ThreadTarget,
    view: { candidate: Candidate; comparison: CanaryComparison; actions: boolean },
  ): Promise<number>;
  /** An ephemeral message to one person. */
  tell(tx: Db, to: { channel: string; user: string }, text: string): Promise<number>;
  /** Deliver what was just queued without waiting for the next poll. */
  wake(): void;
}
