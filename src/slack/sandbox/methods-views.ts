import { type ApiArgs, type ApiHandler, argString, fail } from "./api-types.js";
import { validateView } from "./block-kit.js";
import type { SandboxView } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

function viewArg(args: ApiArgs): { view: Record<string, unknown> } | { error: ReturnType<typeof fail> } {
  const view = args.view;
  if (view === undefined || view === "")
    return { error: fail("invalid_arguments", { errors: ["view is required"] }) };
  const problem = validateView(view);
  if (problem) return { error: fail("invalid_arguments", { errors: [problem] }) };
  return { view: view as Record<string, unknown> };
}

function findView(workspace: SandboxWorkspace, args: ApiArgs): SandboxView | undefined {
  const viewId = argString(args, "view_id");
  if (viewId) return workspace.view(viewId);
  const externalId = argString(args, "external_id");
  return externalId ? workspace.viewByExternalId(externalId) : undefined;
}

const open: ApiHandler = ({ workspace, args }) => {
  const triggerId = argString(args, "trigger_id");
  if (!triggerId) return fail("invalid_arguments", { errors: ["trigger_id is required"] });
  const parsed = viewArg(args);
  if ("error" in parsed) return parsed.error;
  const externalId = parsed.view.external_id;
  if (typeof externalId === "string" && externalId !== "" && workspace.viewByExternalId(externalId)) {
    return fail("duplicate_external_id");
  }
  const exchange = workspace.triggers.exchange(triggerId);
  if (!exchange.ok) return fail(exchange.error);
  return { ok: true, view: workspace.openView(exchange.userId, parsed.view).view };
};

const update: ApiHandler = ({ workspace, args }) => {
  if (!argString(args, "view_id") && !argString(args, "external_id")) {
    return fail("invalid_arguments", { errors: ["view_id or external_id is required"] });
  }
  const existing = findView(workspace, args);
  if (!existing) return fail("not_found");
  const hash = argString(args, "hash");
  if (hash && hash !== existing.view.hash) return fail("hash_conflict");
  const parsed = viewArg(args);
  if ("error" in parsed) return parsed.error;
  const updated = workspace.updateView(existing.id, parsed.view);
  return updated ? { ok: true, view: updated.view } : fail("not_found");
};

/** views.open (exchanging a trigger_id) and views.update (by view_id or external_id). */
export const viewMethods: Record<string, ApiHandler> = {
  "views.open": open,
  "views.update": update,
};
