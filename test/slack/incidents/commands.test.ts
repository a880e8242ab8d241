import { describe, expect, it } from "vitest";
import { parseStatusUpdate } from "../../../src/incidents/index.js";
import { parseUserMention } from "../../../src/slack/incidents/commands.js";

describe("the person in /mlops assign", () => {
  it("is read from an escaped mention, a bare mention or a user id", () => {
    expect(parseUserMention("<@U0DANA|dana>")).toBe("U0DANA");
    expect(parseUserMention("<@W0ENT>")).toBe("W0ENT");
    expect(parseUserMention("U0DANA")).toBe("U0DANA");
  });

  it("is nobody for a name Slack did not turn into an id, a group or a channel", () => {
    for (const word of ["@dana", "dana", "<!subteam^S0L2|@ds-oncall>", "<#C0ALERTS|alerts>", "<@U0DANA", ""])
      expect(parseUserMention(word)).toBeUndefined();
  });
});

describe("the text of /mlops update", () => {
  it("splits what is known from the next step at `next:`", () => {
    expect(parseStatusUpdate("The ETL job dropped a column. next: rerun it at 14:00")).toEqual({
      known: "The ETL job dropped a column.",
      next: "rerun it at 14:00",
    });
    expect(parseStatusUpdate("Traced to the checkout release Next step: roll it back")).toEqual({
      known: "Traced to the checkout release",
      next: "roll it back",
    });
  });

  it("has no next step without `next:`, and a word merely containing it does not split", () => {
    expect(parseStatusUpdate("  the context: amounts doubled  ")).toEqual({
      known: "the context: amounts doubled",
      next: undefined,
    });
  });

  it("is nothing without what is known", () => {
    expect(parseStatusUpdate("")).toBeUndefined();
    expect(parseStatusUpdate("next: look again tomorrow")).toBeUndefined();
  });
});
