import { describe, expect, it } from "vitest";
import { ENVELOPE_TTL_MS, EnvelopeDedupe } from "../../src/slack/envelope-dedupe.js";

describe("EnvelopeDedupe", () => {
  it("hands a redelivery the payload the first delivery was acknowledged with, even when that ack comes later", async () => {
    const dedupe = new EnvelopeDedupe();
    const first = dedupe.take("E1");
    if (!first.first) throw new Error("expected the first delivery");
    const again = dedupe.take("E1");
    if (again.first) throw new Error("expected a redelivery");
    first.acked({ text: "done" });
    await expect(again.ack).resolves.toEqual({ text: "done" });
    expect(dedupe.take("E2").first).toBe(true);
  });

  it("forgets an envelope after its time to live, so the same id later is handled as new", () => {
    let now = 0;
    const dedupe = new EnvelopeDedupe(() => now);
    dedupe.take("E1");
    now += ENVELOPE_TTL_MS - 1;
    expect(dedupe.take("E1").first).toBe(false);
    now += 1;
    expect(dedupe.take("E1").first).toBe(true);
  });

  it("keeps at most `max` envelopes, forgetting the oldest first", () => {
    const dedupe = new EnvelopeDedupe(Date.now, 2);
    dedupe.take("E1");
    dedupe.take("E2");
    dedupe.take("E3");
    expect(dedupe.size).toBe(2);
    expect(dedupe.take("E3").first).toBe(false);
    expect(dedupe.take("E1").first).toBe(true);
  });
});
