/**
 * Every action_id, callback_id and input id the bot's Slack messages and modals use, defined once:
 * Block Kit builders render with them and listeners register on them, so the two cannot drift.
 */
export const ACTION_IDS = {
  incidentAcknowledge: "incident_acknowledge",
  /** Wired by the escalation feature; value `<incident id>:<tier seen>`. */
  incidentEscalate: "incident_escalate",
  /** Acknowledge from a page (DM); wired by the escalation feature; value `<incident id>:<tier>`. */
  escalationAcknowledge: "escalation_acknowledge",
  incidentResolve: "incident_resolve",
  incidentSilence1h: "incident_silence_1h",
  /** Makes the clicker the incident's owner. */
  incidentTake: "incident_take",
  /** The card's severity select; each option's value is `<incident id>:<severity>`. */
  incidentSeverity: "incident_severity",
  /** Opens the status-update dialog. */
  incidentUpdate: "incident_update",
  /** Prefix of the suggested-runbook buttons (`incident_runbook:<name>`); wired by the runbooks feature. */
  incidentRunbookPrefix: "incident_runbook:",
  /** Approval card of a retrained candidate; value `<candidate id>`. */
  retrainApprove: "retrain_approve",
  retrainReject: "retrain_reject",
  /** Live canary comparison; value `<candidate id>`. */
  canaryPromote: "canary_promote",
  canaryRollback: "canary_rollback",
  /** `/mlops outbox`: queue a dead letter again / drop it; value `<outbox id>`. */
  outboxRetry: "outbox_retry",
  outboxDrop: "outbox_drop",
  /** On a handoff reminder: ask others to cover; value `<schedule>|<start ms>|<end ms>`. */
  oncallFindCover: "oncall_find_cover",
  /** On a cover request: the clicker takes the shift; value `<schedule>|<start ms>|<end ms>|<asker>`. */
  oncallTakeShift: "oncall_take_shift",
  /** On `/mlops oncall`: opens the override modal; value: the schedule shown, or empty. */
  oncallAddOverride: "oncall_add_override",
} as const;

/** Modal callback ids. */
export const VIEW_IDS = {
  incidentResolve: "incident_resolve_modal",
  /** Asks for a status update: what is known, next step. */
  incidentUpdate: "incident_update_modal",
  /** Confirms a runbook run (`confirm: true`) and edits its parameters. */
  runbookConfirm: "runbook_confirm_modal",
  /** Asks why a candidate is rejected. */
  retrainReject: "retrain_reject_modal",
  /** Sets an on-call override: schedule, person, from, to. */
  oncallOverride: "oncall_override_modal",
} as const;

/** Input blocks and elements inside modals, read back from `view.state.values`. */
export const INPUT_IDS = {
  resolutionBlock: "resolution",
  resolutionNote: "resolution_note",
  updateKnownBlock: "update_known",
  updateKnown: "update_known_text",
  updateNextBlock: "update_next",
  updateNext: "update_next_text",
  /** Prefix of a runbook parameter's input block and element in the confirm modal (`runbook_param:<key>`). */
  runbookParamPrefix: "runbook_param:",
  rejectReasonBlock: "reject_reason",
  rejectReason: "reject_reason_text",
  /** The override modal's inputs (block and element share the id). */
  overrideSchedule: "override_schedule",
  overrideUser: "override_user",
  overrideFrom: "override_from",
  overrideTo: "override_to",
} as const;

/** The action_id of the button that runs runbook `name` for an incident. */
export function runbookActionId(name: string): string {
  return `${ACTION_IDS.incidentRunbookPrefix}${name}`;
}
