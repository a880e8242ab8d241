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
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*${formatRef(incident.id)}* · ${escapeMrkdwn(clip(incident.title, 300))}`,
        },
      },
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
