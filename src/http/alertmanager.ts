import { z } from "zod";
import type { AlertSignal } from "../shared/alert-signal.js";
import { isStorable, UNSTORABLE_MESSAGE } from "../shared/storable.js";
import { escapeMrkdwn } from "../shared/text.js";

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK = (1n << 64n) - 1n;

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over the label names sorted ascending, each
 * name and value followed by the byte 0xFF, printed as 16 hex digits.
 */
export function alertmanagerFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & MASK;
  };
  const sep = new Uint8Array([0xff]);
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    feed(enc.encode(name));
    feed(sep);
    feed(enc.encode(labels[name] as string));
    feed(sep);
  }
  return hash.toString(16).padStart(16, "0");
}

const timestamp = z.iso.datetime({ offset: true });

/** Text that reaches the alert's row (labels, annotations): refused when Postgres cannot store it. */
const storable = z.string().refine(isStorable, { message: UNSTORABLE_MESSAGE });
const storableRecord = z.record(storable, storable);

const amAlertSchema = z.looseObject({
  status: z.enum(["firing", "resolved"]),
  labels: storableRecord,
  annotations: storableRecord.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: storable.max(2000).optional(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{1,16}$/)
    .optional(),
});

/** Alertmanager's webhook body, version 4; unknown fields (newer versions) are accepted and ignored. */
export const alertmanagerPayloadSchema = z.looseObject({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().optional(),
  groupLabels: z.record(z.string(), z.string()).optional(),
  commonLabels: z.record(z.string(), z.string()).optional(),
  commonAnnotations: z.record(z.string(), z.string()).optional(),
  externalURL: z.string().optional(),
  alerts: z.array(amAlertSchema).min(1).max(1000),
});

/** A parsed webhook body. */
export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>;

function severityOf(label: string | undefined): AlertSignal["severity"] {
  const s = (label ?? "").toLowerCase();
  if (["critical", "page", "error", "high", "emergency"].includes(s)) return "critical";
  if (["info", "informational", "none", "low"].includes(s)) return "info";
  return "warning";
}

/** One alert that cannot be mapped to a model. */
export interface MappingIssue {
  path: string;
  message: string;
}

/**
 * Maps each webhook alert to an `AlertSignal`: the model from `modelLabel`, the monitor from
 * `alertname`, the subject from Alertmanager's fingerprint (so the same alert is the same problem).
 * Firing alerts are observed at `startsAt`, resolved ones at `endsAt`.
 */
export function signalsFromAlertmanager(
  payload: AlertmanagerPayload,
  modelLabel: string,
  models: readonly string[],
  now: Date,
): { signals: AlertSignal[]; issues: MappingIssue[] } {
  const signals: AlertSignal[] = [];
  const issues: MappingIssue[] = [];
  payload.alerts.forEach((a, i) => {
    const model = a.labels[modelLabel];
    if (!model) {
      issues.push({
        path: `alerts.${i}.labels.${modelLabel}`,
        message: `missing: the label that names the model (alerting.alertmanager.model_label)`,
      });
      return;
    }
    if (!models.includes(model)) {
      issues.push({
        path: `alerts.${i}.labels.${modelLabel}`,
        message: `unknown model '${model.slice(0, 80)}'`,
      });
      return;
    }
    const alertname = a.labels.alertname ?? "alertmanager";
    const ended = a.endsAt && !a.endsAt.startsWith("0001-") ? new Date(a.endsAt) : undefined;
    const observedAt = a.status === "resolved" ? (ended ?? now) : new Date(a.startsAt);
    const value = a.annotations.value;
    const link =
      a.generatorURL && /^https?:\/\//.test(a.generatorURL)
        ? `\n<${a.generatorURL.replace(/[<>|]/g, "")}|Source>`
        : "";
    signals.push({
      source: "alertmanager",
      model,
      ...(a.labels.model_version ? { modelVersion: a.labels.model_version.slice(0, 100) } : {}),
      monitor: alertname.slice(0, 100),
      subject: a.fingerprint ?? alertmanagerFingerprint(a.labels),
      status: a.status,
      severity: severityOf(a.labels.severity),
      title: (a.annotations.summary ?? a.annotations.title ?? alertname).slice(0, 300),
      summary: `${escapeMrkdwn((a.annotations.description ?? "").slice(0, 2000))}${link}`,
      metrics:
        value === undefined
          ? {}
          : { value: Number.isFinite(Number(value)) ? Number(value) : value.slice(0, 200) },
      rule: (a.annotations.rule ?? `Alertmanager alert ${alertname}`).slice(0, 500),
      observedAt: Number.isNaN(observedAt.getTime()) ? now : observedAt,
      labels: Object.fromEntries(
        Object.entries(a.labels)
          .slice(0, 40)
          .map(([k, v]) => [k.slice(0, 100), v.slice(0, 500)]),
      ),
    });
  });
  return { signals, issues };
}
