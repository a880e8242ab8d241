import { describe, expect, it } from "vitest";
import { startTestBot } from "../helpers/bot.js";

describe("graceful shutdown", () => {
  it("finishes requests in flight, refuses new ones, stops features, then closes the database", async () => {
    const events: string[] = [];
    let arrived!: () => void;
    const slowArrived = new Promise<void>((r) => {
      arrived = r;
    });
    const bot = await startTestBot({
      features: () => [
        {
          name: "slow",
          http: async (app) => {
            app.get("/slow", async () => {
              arrived();
              await new Promise((r) => setTimeout(r, 400));
              events.push("slow request done");
              return { done: true };
            });
          },
          stop: () => {
            events.push("feature stopped");
          },
        },
      ],
    });
    const inFlight = fetch(`${bot.url}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    // Shut down only once the server is handling the request: before that it is not in flight.
    await slowArrived;
    const closing = bot.close();
    await new Promise((r) => setTimeout(r, 50));
    const late = await fetch(`${bot.url}/healthz`).then(
      (r) => r.status,
      () => "refused",
    );
    expect(await inFlight).toEqual({ status: 200, body: { done: true } });
    await closing;
    events.push("closed");
    expect(late === 503 || late === "refused").toBe(true);
    expect(events).toEqual(["slow request done", "feature stopped", "closed"]);
    await expect(bot.database.ping(500)).rejects.toThrow();
  });
});
