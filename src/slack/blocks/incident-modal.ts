import type { View } from "@slack/types";
import { formatRef } from "../../incidents/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { clip } from "./incident-format.js";

/** What the resolve modal carries back on submit. */
export interface ResolveModalMetadata {
  incidentId: number;
  channel: string;
}

/** A text input block of a modal. */
function textInput(
  blockId: string,
  actionId: string,
  label: string,
  opts: { multiline?: boolean; maxLength: number; optional?: boolean },
): View["blocks"][number] {
  return {
    type: "input",
    block_id: blockId,
    ...(opts.optional ? { optional: true } : {}),
    label: { type: "plain_text", text: label },
    element: {
      type: "plain_text_input",
      action_id: actionId,
      ...(opts.multiline ? { multiline: true } : {}),
      max_length: opts.maxLength,
    },
  };
}

function heading(incident: { id: number; title: string }): View["blocks"][number] {
  return {
    type: "section",
    text: {
      type: "mrkdwn",
      text: `*${formatRef(incident.id)}* · ${escapeMrkdwn(clip(incident.title, 300))}`,
    },
  };
}

/** A modal about one incident: its reference and title on top, then `inputs`. */
function incidentModal(
  callbackId: string,
  incident: { id: number; title: string },
  meta: ResolveModalMetadata,
  words: { title: string; submit: string },
  inputs: View["blocks"],
): View {
  return {
    type: "modal",
    callback_id: callbackId,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: clip(`${words.title} ${formatRef(incident.id)}`, 24) },
    submit: { type: "plain_text", text: words.submit },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [heading(incident), ...inputs],
  };
}

/** The modal Resolve opens: asks what fixed it. */
export function resolveModal(incident: { id: number; title: string }, meta: ResolveModalMetadata): View {
  return incidentModal(VIEW_IDS.incidentResolve, incident, meta, { title: "Resolve", submit: "Resolve" }, [
    textInput(INPUT_IDS.resolutionBlock, INPUT_IDS.resolutionNote, "What was wrong, and what fixed it?", {
      multiline: true,
      maxLength: 2000,
    }),
  ]);
}

/**
 * The modal Update opens: what is known and the next step; the incident's state is the status.
 * It carries the same metadata as the resolve modal.
 */
export function updateModal(incident: { id: number; title: string }, meta: ResolveModalMetadata): View {
  return incidentModal(VIEW_IDS.incidentUpdate, incident, meta, { title: "Update", submit: "Post update" }, [
    textInput(INPUT_IDS.updateKnownBlock, INPUT_IDS.updateKnown, "What do we know?", {
      multiline: true,
      maxLength: 2000,
    }),
    textInput(INPUT_IDS.updateNextBlock, INPUT_IDS.updateNext, "Next step", {
      maxLength: 500,
      optional: true,
    }),
  ]);
}
