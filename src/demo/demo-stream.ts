/**
 * The demo model's traffic, streamed from inside the bot (sandbox mode): what
 * `npm run demo:traffic` does from a second terminal, started from the sandbox page instead.
 * It goes through the same HTTP API as any client (`post` is handed in), so validation, ingest
 * and the real-time monitors see exactly what they would see from outside.
 */
import {
  type DemoPrediction,
  demoBatch,
  demoPrediction,
  FAULTS,
  type Fault,
  seededRandom,
  withoutLabel,
} from "./fraud-traffic.js";

/** Posts a JSON body to `/api/v1/models/<model>/<path>`; rejects on a non-2xx answer. */
export type DemoPost = (path: "predictions" | "labels" | "reference", body: unknown) => Promise<unknown>;

/** Where the stream is. */
export interface DemoStatus {
  state: "idle" | "backfilling" | "streaming" | "failed";
  /** The fault in the stream now. */
  fault: Fault;
  /** Predictions sent since start, backfill included. */
  sent: number;
  /** What went wrong, when failed. */
  error?: string;
}

/** What the page can do with the stream. */
export interface DemoTraffic {
  /** Backfills two days of labelled history, sets it as the reference, fills the last hour, then streams. No-op while running. */
  start(fault?: Fault): Promise<DemoStatus>;
  /** Changes the fault in the running stream (starts it when idle). */
  inject(fault: Fault): Promise<DemoStatus>;
  /** Stops streaming; resolves once no request is in flight. */
  stop(): Promise<DemoStatus>;
  /** Stops streaming and closes the fake model service (the bot is shutting down). */
  shutdown(): Promise<void>;
  status(): DemoStatus;
  /** Called on every change of status; returns an unsubscribe function. */
  onChange(listener: (status: DemoStatus) => void): () => void;
}

/** Options of the stream; the defaults are the demo's. */
export interface DemoTrafficOptions {
  post: DemoPost;
  /** Epoch ms. */
  now?: () => number;
  /** Predictions a second. */
  rate?: number;
  /** Labelled history rows backfilled over the 48 h before the last two hours. */
  history?: number;
  seed?: number;
  log?: (message: string) => void;
  /**
   * Drifted predictions sent at once when drift is injected, spread over the last ten minutes as
   * if the shift had begun then: the drift monitor's window is a day, so a trickle would take
   * many minutes to show. The other faults show within seconds without it.
   */
  surge?: number;
  /** Starts the fake model service the probe and runbooks call, once, with the first start. */
  service?: () => Promise<{ url: string; close(): Promise<void> }>;
}

const HOUR = 3_600_000;

/** Builds the in-process demo stream. */
export function createDemoTraffic(opts: DemoTrafficOptions): DemoTraffic {
  const now = opts.now ?? Date.now;
  const rate = opts.rate ?? 20;
  const seed = opts.seed ?? now() % 1e9;
  const rand = seededRandom(seed);
  const log = opts.log ?? (() => {});
  const listeners = new Set<(s: DemoStatus) => void>();
  let status: DemoStatus = { state: "idle", fault: "none", sent: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> | undefined;
  let seq = 0;
  let backfilled = false;
  /** False once stop was asked for, so a stop during the backfill does not start the stream after it. */
  let wanted = false;
  const unlabelled: DemoPrediction[] = [];

  const set = (patch: Partial<DemoStatus>) => {
    status = { ...status, ...patch };
    if (patch.state && patch.state !== "failed") delete status.error;
    for (const l of listeners) l(status);
  };

  async function sendAll(path: "predictions" | "labels", rows: unknown[]) {
    for (let i = 0; i < rows.length; i += 5000) await opts.post(path, rows.slice(i, i + 5000));
  }

  let service: { close(): Promise<void> } | undefined;
  async function startService() {
    if (service || !opts.service) return;
    try {
      const started = await opts.service();
      service = started;
      log(`fake model service on ${started.url}`);
    } catch (err) {
      // Another demo (npm run demo:traffic) may serve it already: traffic works without it.
      log(`fake model service not started: ${(err as Error).message}`);
    }
  }

  async function backfill() {
    const at = now();
    const history = demoBatch(
      rand,
      `hist-${seed}`,
      opts.history ?? 2400,
      new Date(at - 50 * HOUR),
      new Date(at - 2 * HOUR),
    );
    await sendAll("predictions", history.map(withoutLabel));
    await sendAll(
      "labels",
      history.map((r) => ({ id: r.id, label: r.label })),
    );
    await opts.post("reference", {
      from: new Date(at - 51 * HOUR).toISOString(),
      to: new Date(at - 2 * HOUR).toISOString(),
    });
    const lastHour = demoBatch(rand, `recent-${seed}`, 3600, new Date(at - HOUR), new Date(at));
    await sendAll("predictions", lastHour.map(withoutLabel));
    await sendAll(
      "labels",
      lastHour.filter(() => rand() < 0.5).map((r) => ({ id: r.id, label: r.label })),
    );
    set({ sent: status.sent + history.length + lastHour.length });
    log(
      `backfilled ${history.length} labelled predictions as the reference and ${lastHour.length} in the last hour`,
    );
    backfilled = true;
  }

  async function surge(fault: Fault) {
    if (fault !== "drift" && fault !== "drift_segment") return;
    const at = now();
    const rows = demoBatch(
      rand,
      `surge-${seed}-${seq++}`,
      opts.surge ?? 12_000,
      new Date(at - 600_000),
      new Date(at),
      fault,
    );
    await sendAll("predictions", rows.map(withoutLabel));
    set({ sent: status.sent + rows.length });
    log(`sent ${rows.length} drifted predictions over the last ten minutes`);
  }

  async function tick() {
    const at = now();
    const rows = Array.from({ length: rate }, (_, i) =>
      demoPrediction(rand, `live-${seed}-${seq++}`, new Date(at - 1000 + (i * 1000) / rate), status.fault),
    );
    await opts.post("predictions", rows.map(withoutLabel));
    unlabelled.push(...rows);
    // Ground truth arrives ten seconds later for about half of the predictions.
    const due = unlabelled.splice(0, Math.max(0, unlabelled.length - rate * 10)).filter(() => rand() < 0.5);
    if (due.length)
      await opts.post(
        "labels",
        due.map((r) => ({ id: r.id, label: r.label })),
      );
    set({ sent: status.sent + rows.length });
  }

  function fail(err: unknown) {
    if (timer) clearInterval(timer);
    timer = undefined;
    const message = (err as Error).message ?? String(err);
    log(`demo traffic failed: ${message}`);
    set({ state: "failed", error: message.slice(0, 300) });
  }

  function stream() {
    set({ state: "streaming" });
    timer = setInterval(() => {
      if (running) return; // a slow tick is skipped, never stacked
      running = tick()
        .catch(fail)
        .finally(() => {
          running = undefined;
        });
    }, 1000);
    timer.unref?.();
  }

  return {
    async start(fault = status.fault) {
      if (!FAULTS.includes(fault)) throw new Error(`unknown fault ${fault}; expected ${FAULTS.join(", ")}`);
      if (status.state === "backfilling" || status.state === "streaming") {
        if (fault !== status.fault) set({ fault });
        return status;
      }
      set({ state: "backfilling", fault });
      wanted = true;
      try {
        await startService();
        if (!backfilled) await backfill();
        await surge(fault);
        if (wanted) stream();
        else set({ state: "idle" });
      } catch (err) {
        fail(err);
      }
      return status;
    },
    async inject(fault) {
      if (status.state === "idle" || status.state === "failed") return this.start(fault);
      if (!FAULTS.includes(fault)) throw new Error(`unknown fault ${fault}; expected ${FAULTS.join(", ")}`);
      log(`injecting ${fault}`);
      try {
        await surge(fault);
      } catch (err) {
        fail(err);
        return status;
      }
      set({ fault });
      return status;
    },
    async stop() {
      wanted = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      if (status.state === "streaming") set({ state: "idle" });
      return status;
    },
    async shutdown() {
      await this.stop();
      await service?.close();
      service = undefined;
    },
    status: () => status,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
