/**
 * `npm run demo:traffic -- [--inject drift|drift_segment|quality|confidence] [--after 10s] [--rate 100]`
 *
 * Streams realistic predictions of the demo `fraud-detector` into a running bot, sends their
 * ground truth a little later, and serves a small fake model service (`GET /health`,
 * `POST /predict`, and the admin endpoints the demo runbooks call: see src/demo/fraud-service.ts)
 * for the probe. On start it backfills two days of labelled history, sets it as
 * the reference, and fills the last hour at the configured 3,600 predictions an hour, so monitors
 * have something to compare with at once. With `--inject`, the fault
 * begins after `--after`; then `/mlops check fraud-detector` shows the findings.
 *
 * Environment: MLOPS_URL (default http://127.0.0.1:3000), MLOPS_API_TOKEN (the bot's bootstrap
 * token), FRAUD_SERVICE_PORT (default 8081, 0 to serve none).
 */
import { parseArgs } from "node:util";
import { startFraudService } from "../src/demo/fraud-service.js";
import {
  type DemoPrediction,
  demoBatch,
  demoPrediction,
  FAULTS,
  type Fault,
  fraudScore,
  seededRandom,
  withoutLabel,
} from "../src/demo/fraud-traffic.js";

const { values } = parseArgs({
  options: {
    inject: { type: "string", default: "none" },
    after: { type: "string", default: "10s" },
    rate: { type: "string", default: "100" },
    history: { type: "string", default: "2400" },
    "no-backfill": { type: "boolean", default: false },
    seed: { type: "string", default: String(Date.now() % 1e9) },
  },
});
const fault = values.inject as Fault;
if (!FAULTS.includes(fault)) throw new Error(`--inject must be one of ${FAULTS.join(", ")}`);
const afterMs = Number.parseInt(values.after ?? "20", 10) * (values.after?.endsWith("m") ? 60_000 : 1000);
const rate = Math.max(1, Number(values.rate));
const url = (process.env.MLOPS_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
const token = process.env.MLOPS_API_TOKEN;
if (!token)
  throw new Error(
    "set MLOPS_API_TOKEN to the token the bot was started with (or one from npm run token:create)",
  );
const rand = seededRandom(Number(values.seed));
const servicePort = Number(process.env.FRAUD_SERVICE_PORT ?? 8081);

async function post(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}/api/v1/models/fraud-detector/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

function log(message: string): void {
  process.stdout.write(`[demo ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

if (servicePort > 0) {
  // The admin endpoints (restart, rollback, cache/clear, break) are what the demo runbooks call.
  const service = await startFraudService({ port: servicePort, score: fraudScore });
  log(`fake fraud-detector service on ${service.url} (version ${service.state.version})`);
}

if (!values["no-backfill"]) {
  const now = Date.now();
  const history = demoBatch(
    rand,
    `hist-${values.seed}`,
    Number(values.history),
    new Date(now - 50 * 3_600_000),
    new Date(now - 2 * 3_600_000),
  );
  for (let i = 0; i < history.length; i += 5000)
    await post("predictions", history.slice(i, i + 5000).map(withoutLabel));
  for (let i = 0; i < history.length; i += 5000)
    await post(
      "labels",
      history.slice(i, i + 5000).map((r) => ({ id: r.id, label: r.label })),
    );
  const ref = await post("reference", {
    from: new Date(now - 51 * 3_600_000).toISOString(),
    to: new Date(now - 2 * 3_600_000).toISOString(),
  });
  log(
    `backfilled ${history.length} labelled predictions and set them as the reference: ${JSON.stringify(ref)}`,
  );
  const lastHour = demoBatch(rand, `recent-${values.seed}`, 3600, new Date(now - 3_600_000), new Date(now));
  for (let i = 0; i < lastHour.length; i += 5000)
    await post("predictions", lastHour.slice(i, i + 5000).map(withoutLabel));
  await post(
    "labels",
    lastHour.filter(() => rand() < 0.5).map((r) => ({ id: r.id, label: r.label })),
  );
  log(`backfilled the last hour: ${lastHour.length} predictions, half of them labelled`);
}

const started = Date.now();
let seq = 0;
let sent = 0;
const unlabelled: DemoPrediction[] = [];
log(
  `streaming ${rate} predictions/s${fault !== "none" ? `; injecting ${fault} after ${Math.round(afterMs / 1000)}s` : ""}. Ctrl-C stops.`,
);
const timer = setInterval(async () => {
  const now = Date.now();
  const active: Fault = fault !== "none" && now - started >= afterMs ? fault : "none";
  const rows = Array.from({ length: rate }, (_, i) =>
    demoPrediction(rand, `live-${values.seed}-${seq++}`, new Date(now - 1000 + (i * 1000) / rate), active),
  );
  try {
    await post("predictions", rows.map(withoutLabel));
    sent += rows.length;
    unlabelled.push(...rows);
    // Ground truth arrives ten seconds later for about half of the predictions.
    const due = unlabelled.splice(0, Math.max(0, unlabelled.length - rate * 10)).filter(() => rand() < 0.5);
    if (due.length)
      await post(
        "labels",
        due.map((r) => ({ id: r.id, label: r.label })),
      );
    if (seq % (rate * 10) < rate)
      log(`${sent} predictions sent${active !== "none" ? ` (${active} injected)` : ""}`);
  } catch (err) {
    log(`send failed: ${(err as Error).message}`);
  }
}, 1000);
process.on("SIGINT", () => {
  clearInterval(timer);
  log(`stopped after ${sent} predictions`);
  process.exit(0);
});
