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

function heading(incident: { id: number; title: string }): View["blocks"][number] {
  return {
    type: "section",
    text: {
      type: "mrkdwn",
      text: `*${formatRef(incident.id)}* · ${escapeMrkdwn(clip(incident.title, 300))}`,
    },
  };
}

/** The modal Resolve opens: asks what fixed it. */
export function resolveModal(incident: { id: number; title: string }, meta: ResolveModalMetadata): View {
  return {
    type: "modal",
    callback_id: VIEW_IDS.incidentResolve,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: clip(`Resolve ${formatRef(incident.id)}`, 24) },
    submit: { type: "plain_text", text: "Resolve" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      heading(incident),
      {
        type: "input",
        block_id: INPUT_IDS.resolutionBlock,
        label: { type: "plain_text", text: "What was wrong, and what fixed it?" },
        element: {
          type: "plain_text_input",
          action_id: INPUT_IDS.resolutionNote,
          multiline: true,
          max_length: 2000,
        },
      },
    ],
  };
}

/**
 * The modal Update opens: what is known and the next step; the incident's state is the status.
 * It carries the same metadata as the resolve modal.
 */
export function updateModal(incident: { id: number; title: string }, meta: ResolveModalMetadata): View {
  return {
    type: "modal",
    callback_id: VIEW_IDS.incidentUpdate,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: clip(`Update ${formatRef(incident.id)}`, 24) },
    submit: { type: "plain_text", text: "Post update" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      heading(incident),
      {
        type: "input",
        block_id: INPUT_IDS.updateKnownBlock,
        label: { type: "plain_text", text: "What do we know?" },
        element: {
          type: "plain_text_input",
          action_id: INPUT_IDS.updateKnown,
          multiline: true,
          max_length: 2000,
        },
      },
      {
        type: "input",
        block_id: INPUT_IDS.updateNextBlock,
        optional: true,
        label: { type: "plain_text", text: "Next step" },
        element: { type: "plain_text_input", action_id: INPUT_IDS.updateNext, max_length: 500 },
      },
    ],
  };
}
