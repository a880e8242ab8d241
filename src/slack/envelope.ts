import { z } from "zod";

export { storableStrings } from "../shared/storable.js";

const object = z.looseObject({});
const withId = z.looseObject({ id: z.string() });

/**
 * The fields of an interaction payload that Bolt reads before any listener runs (to route and to
 * build the authorization source). Slack always sends them in these shapes; a payload that does
 * not (only possible with the signing secret, i.e. a bug or a leaked secret) made Bolt throw a
 * TypeError and the bot answer 500. Listeners still validate what they use themselves.
 */
const interactionEnvelope = z
  .looseObject({
    type: z.string().min(1),
    user: withId,
    team: withId.nullish(),
    enterprise: object.nullish(),
    channel: withId.optional(),
    container: object.optional(),
    message: object.optional(),
    view: object.optional(),
    actions: z
      .array(z.looseObject({ action_id: z.string().optional() }))
      .min(1)
      .optional(),
  })
  .refine((p) => !p.type.startsWith("view_") || p.view !== undefined, {
    message: "a view payload carries its view",
    path: ["view"],
  })
  .refine((p) => p.type !== "block_actions" || p.actions !== undefined, {
    message: "block_actions carry actions",
    path: ["actions"],
  });

/** Why an interaction payload cannot be handed to Bolt, or null when it can. */
export function envelopeProblem(body: Record<string, unknown>): string | null {
  if (typeof body.command === "string" || body.type === "event_callback" || body.type === "url_verification")
    return null;
  const parsed = interactionEnvelope.safeParse(body);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join(".") || "(payload)"}: ${issue?.message ?? "unexpected shape"}`;
}
