/**
 * `/mlops check|status|models|baseline`: thin Slack adapters over the monitoring services. `check`
 * acknowledges at once and posts the results into the channel when the monitors are done.
 */
import type { ModelRegistry } from "../../models/index.js";
import type { MonitoringService, MonitorRun, ReferenceService } from "../../monitoring/index.js";
import { segmentFeatures } from "../../rollups/segments.js";
import type { Clock } from "../../shared/clock.js";
import { parseDuration } from "../../shared/duration.js";
import type { Logger } from "../../shared/logger.js";
import type { CommandReply, Subcommand } from "../commands/types.js";
import { checkBlocks, healthBlocks, runNumbers, statusBlocks } from "./blocks.js";

/** Posts a message into a channel (the Bolt client once the bot runs). */
export interface ChannelPoster {
  post(channel: string, message: { text: string; blocks: unknown[] }): Promise<void>;
}

/** What the monitoring commands call. */
export interface MonitoringCommandDeps {
  ready(): Promise<void>;
  registry: ModelRegistry;
  monitoring: MonitoringService;
  reference: ReferenceService;
  clock: Clock;
  logger: Logger;
  poster(): ChannelPoster;
  /** Resolves when the check started by this command has posted (tests wait on it). */
  track?(p: Promise<unknown>): void;
  /** Labels of a model that wait for their prediction, never matched one, or joined late. */
  labels?(modelId: number): Promise<{ pending: number; unmatched: number; joinedLate: number }>;
}

function unknownModel(slug: string | undefined, registry: ModelRegistry): CommandReply | null {
  if (!slug) return { text: "Name a model, e.g. `/mlops check fraud-detector`. `/mlops models` lists them." };
  if (!registry.find(slug))
    return { text: `No model called \`${slug.slice(0, 60)}\`. \`/mlops models\` lists them.` };
  return null;
}

/** Parses `now`, an ISO date/time, or a duration meaning "that long ago" (`24h`, `7d`). */
export function parseWhen(word: string, now: Date): Date | null {
  if (word === "now") return now;
  if (/^\d+(ms|s|m|h|d|w)$/.test(word)) return new Date(now.getTime() - parseDuration(word));
  const d = new Date(word);
  return /^\d{4}-\d{2}-\d{2}/.test(word) && !Number.isNaN(d.getTime()) ? d : null;
}

/** The four monitoring subcommands. */
export function monitoringCommands(deps: MonitoringCommandDeps): Subcommand[] {
  const check: Subcommand = {
    name: "check",
    usage: "<model> [--segment <feature>=<value>]",
    summary: "Run the model's monitors now (on one segment with --segment) and post the results here",
    async run(ctx) {
      await deps.ready();
      const slug = ctx.args[0];
      const bad = unknownModel(slug, deps.registry);
      if (bad) return bad;
      const model = slug as string;
      const config = deps.monitoring.configOf(model);
      const flag = ctx.args.indexOf("--segment");
      const segment = flag >= 0 ? (ctx.args[flag + 1] ?? "") : undefined;
      if (segment !== undefined) {
        const feature = segment.split("=")[0] ?? "";
        const features = segmentFeatures(config.segments);
        if (!segment.includes("=") || !features.includes(feature))
          return {
            text: features.length
              ? `\`--segment\` takes <feature>=<value> of a segment feature of \`${model}\` (${features.join(", ")}), e.g. \`--segment ${features[0]}=DE\`.`
              : `\`${model}\` has no segments (models[].segments in the config).`,
          };
      }
      const monitors = Object.keys(config.monitors).filter((k) => segment === undefined || k !== "probe");
      const job = deps.monitoring
        .runAll(model, "manual", segment)
        .then((runs) =>
          deps.poster().post(ctx.channelId, checkBlocks(segment ? `${model} @ ${segment}` : model, runs)),
        )
        .catch((err: unknown) => {
          deps.logger.error({ err, model }, "check failed");
          return deps
            .poster()
            .post(ctx.channelId, {
              text: `The check of ${model} failed: ${(err as Error).message.slice(0, 200)}`,
              blocks: [],
            })
            .catch(() => {});
        });
      deps.track?.(job);
      return {
        text: `Running ${monitors.length} monitors of \`${model}\`${segment ? ` on segment \`${segment}\`` : ""} (${monitors.join(", ")}); results follow in this channel.`,
      };
    },
  };

  const status: Subcommand = {
    name: "status",
    usage: "[model]",
    summary: "Each monitor's last run and its trend (all models without a name)",
    async run(ctx) {
      await deps.ready();
      const slug = ctx.args[0];
      if (!slug) return modelsHealth();
      const bad = unknownModel(slug, deps.registry);
      if (bad) return bad;
      const runs = await deps.monitoring.recent(slug, 8);
      const byMonitor = new Map<
        string,
        { status: MonitorRun["status"]; startedAt: Date; numbers: string }[]
      >();
      for (const r of runs) {
        const list = byMonitor.get(r.monitor) ?? [];
        list.push({
          status: r.status,
          startedAt: r.started_at,
          numbers: runNumbers({ ...r, note: (r.metrics as { note?: string }).note }),
        });
        byMonitor.set(r.monitor, list);
      }
      const labels = await deps.labels?.(deps.registry.get(slug).id);
      const footer =
        labels && (labels.pending || labels.unmatched || labels.joinedLate)
          ? `Labels: ${labels.pending} waiting for their prediction, ${labels.unmatched} never matched one (expired or never sent), ${labels.joinedLate} arrived before their prediction and joined it`
          : undefined;
      return statusBlocks(slug, byMonitor, deps.clock.now(), footer);
    },
  };

  async function modelsHealth(): Promise<CommandReply> {
    const rows = [];
    for (const m of deps.registry.list()) {
      const cfg = deps.monitoring.configOf(m.slug);
      const runs = await deps.monitoring.recent(m.slug, 1);
      const decisive = runs.filter((r) => r.status !== "skipped");
      const health = decisive.some((r) => r.status === "alert")
        ? "alert"
        : decisive.some((r) => r.status === "error")
          ? "error"
          : decisive.length
            ? "ok"
            : "unknown";
      rows.push({
        slug: m.slug,
        name: m.name,
        health: health as MonitorRun["status"] | "unknown",
        monitors: Object.keys(cfg.monitors),
        reference: (await deps.reference.current(m.slug)) !== null,
        alerting: runs.filter((r) => r.status === "alert").map((r) => r.monitor),
      });
    }
    return healthBlocks(rows);
  }

  const models: Subcommand = {
    name: "models",
    usage: "",
    summary: "List the monitored models with their health",
    async run() {
      await deps.ready();
      return modelsHealth();
    },
  };

  const baseline: Subcommand = {
    name: "baseline",
    usage: "<model> <from> <to>",
    summary: "Profile the model's predictions between two times as its reference (e.g. 7d now)",
    async run(ctx, { access }) {
      await deps.ready();
      const [slug, fromWord, toWord] = ctx.args;
      const bad = unknownModel(slug, deps.registry);
      if (bad) return bad;
      const model = slug as string;
      const decision = await access.can(ctx.userId, "baseline", model);
      if (!decision.allowed)
        return {
          text: `Only ${decision.allowedPrincipals.join(", ")} may set the baseline of \`${model}\`.`,
        };
      const now = deps.clock.now();
      const from = fromWord ? parseWhen(fromWord, now) : null;
      const to = toWord ? parseWhen(toWord, now) : now;
      if (!from || !to)
        return {
          text: "Usage: `/mlops baseline <model> <from> <to>` with ISO dates (2026-11-20), durations ago (7d) or `now`.",
        };
      try {
        const p = await deps.reference.fromWindow(model, from, to, ctx.userId);
        return {
          text: `Reference of \`${model}\` set from ${p.rows} predictions (${p.labelledRows} labelled) between ${p.from} and ${p.to}: ${p.features} features${p.calibrated ? ", scores calibrated for CBPE" : ""}.${p.notes?.length ? ` Note: ${p.notes.join("; ")}.` : ""}`,
          inChannel: true,
        };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "not_enough_data" || code === "invalid_request") return { text: (err as Error).message };
        throw err;
      }
    },
  };

  return [check, status, models, baseline];
}
