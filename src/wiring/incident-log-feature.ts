/**
 * The read-only incident log in the browser: list and detail pages over the incident service and
 * the stored monitor runs, behind the API's tokens (see web/incident-log-routes).
 */
import type { Feature, FeatureContext } from "../features.js";
import { type IncidentService, sandboxNames } from "../incidents/index.js";
import { createModelRepository } from "../models/index.js";
import { createMonitoringRepository, MONITOR_KINDS } from "../monitoring/index.js";
import { responseMetrics } from "../reports/response.js";
import { incidentLogRoutes } from "../web/incident-log-routes.js";
import { createSessionSigner } from "../web/session.js";

/** Builds the incident log feature on the incidents feature's service. */
export function createIncidentLogFeature(ctx: FeatureContext, deps: { incidents: IncidentService }): Feature {
  const { db } = ctx.database;
  const models = createModelRepository(db);
  const runs = createMonitoringRepository(db);
  return {
    name: "incident-log",
    http: incidentLogRoutes({
      incidents: deps.incidents,
      apiTokens: ctx.apiTokens,
      sessions: createSessionSigner(),
      clock: ctx.clock,
      models: ctx.config.models.map((m) => m.slug),
      monitors: MONITOR_KINDS,
      // The sandbox's made-up people by name; with real Slack the log shows user ids.
      names: sandboxNames(ctx.config),
      responseMetrics: (filter) => responseMetrics(db, filter, ctx.config.reports.top_fingerprints),
      async runsAround(model, monitor, from, to) {
        const row = await models.bySlug(model);
        if (!row) return [];
        const found = await runs.runsBetween(row.id, monitor, from, to, 500);
        return found.map((r) => ({ startedAt: r.startedAt, status: r.status, metrics: r.metrics }));
      },
    }),
  };
}
