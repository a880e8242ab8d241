import { describe, expect, it } from "vitest";
import { eventWords } from "../../src/web/event-words.js";

describe("owner and status-update events in the incident log", () => {
  it("say who took or was handed the incident", () => {
    expect(eventWords("owner_changed", { from: null, to: "U0OLIVIA", how: "took" })).toBe(
      "Took it: the owner now.",
    );
    expect(eventWords("owner_changed", { from: "U0OLIVIA", to: "U0DEV", how: "took" })).toBe(
      "Took it over from U0OLIVIA: the owner now.",
    );
    expect(eventWords("owner_changed", { from: "U0OLIVIA", to: "U0DANA", how: "assigned" })).toBe(
      "Handed it to U0DANA (the owner was U0OLIVIA).",
    );
    expect(eventWords("owner_changed", { from: null, to: "U0DANA", how: "acknowledged" })).toBe(
      "Became the owner by acknowledging it.",
    );
  });

  it("give an update's status, what is known and the next step, and a reminder's rhythm", () => {
    expect(
      eventWords("status_update", { state: "open", known: "ETL dropped a column.", next: "rerun" }),
    ).toBe("Status update (open): ETL dropped a column. Next step: rerun");
    expect(eventWords("update_reminded", { owner: "U0DANA", every_ms: 1_800_000 })).toBe(
      "Reminded U0DANA that a status update is due (every 30m).",
    );
  });
});
