#!/usr/bin/env node
// The demo's "pipeline": pretends to retrain the model, then reports the candidate to the bot's
// candidate API with the callback URL and one-time token the bot passed in MLOPS_* variables.
// Real pipelines do the same from CI (see docs/retraining.md).

const url = process.env.MLOPS_CALLBACK_URL;
const token = process.env.MLOPS_CALLBACK_TOKEN;
const requestId = Number(process.env.MLOPS_REQUEST_ID);
if (!url || !token || !requestId) {
  console.error("retrain.mjs: MLOPS_CALLBACK_URL, MLOPS_CALLBACK_TOKEN and MLOPS_REQUEST_ID are required");
  process.exit(2);
}

const now = new Date();
const from = new Date(now.getTime() - 30 * 86_400_000);
console.log(
  `training ${process.env.MLOPS_MODEL} for request ${requestId} (${process.env.MLOPS_REASON ?? "no reason"})…`,
);
await new Promise((r) => setTimeout(r, 300));

const body = {
  version: `v2-r${requestId}`,
  artifact_uri: `file://./.data/models/${process.env.MLOPS_MODEL}/v2-r${requestId}.onnx`,
  metrics: { f1: 0.842, precision: 0.861, recall: 0.824, latency_p95_ms: 41, fpr_gap: 0.018 },
  champion_metrics: { f1: 0.807, precision: 0.842, recall: 0.775, latency_p95_ms: 38, fpr_gap: 0.021 },
  data_window: { from: from.toISOString(), to: now.toISOString() },
  pipeline_run_url: `http://127.0.0.1/demo/runs/${requestId}`,
  business_metrics: { blocked_fraud_eur_per_day: 18400, false_blocks_per_day: 37 },
  retrain_request_id: requestId,
};
const res = await fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  body: JSON.stringify(body),
});
const text = await res.text();
if (!res.ok) {
  console.error(`retrain.mjs: the bot answered ${res.status}: ${text}`);
  process.exit(1);
}
console.log(`reported ${body.version}: ${text}`);
console.log(`run_url=${body.pipeline_run_url}`);
