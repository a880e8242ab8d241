import type { Logger } from "../shared/logger.js";
import type { RolloutService } from "./rollout.js";
import type { RetrainingService } from "./service.js";

/**
 * The time-driven part of retraining: due adapter calls (first attempts right after a kick,
 * retries when their backoff ends) and approval expiries. Deadlines are columns, not timers, so a
 * restart or a second replica loses nothing; rows are claimed with leases or SKIP LOCKED.
 */
export function createRetrainingTicker(deps: {
  service: RetrainingService;
  rollout: RolloutService;
  logger: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function tick(): Promise<void> {
    do {
      again = false;
      await deps.rollout.runDueCalls();
      await deps.service.expireDue();
    } while (again);
  }

  /** Runs one tick now, or once more after the one in progress. */
  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = tick()
      .catch((err: unknown) => deps.logger.error({ err }, "retraining tick failed"))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    kick,
    start(everyMs = 5_000): void {
      timer ??= setInterval(() => void kick(), everyMs);
      timer.unref?.();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      await deps.rollout.idle();
    },
  };
}

/** The retraining ticker. */
export type RetrainingTicker = ReturnType<typeof createRetrainingTicker>;
