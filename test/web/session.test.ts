import { describe, expect, it } from "vitest";
import { metricSeries } from "../../src/charts/metric-series.js";
import { lineChart } from "../../src/web/chart.js";
import { eventWords } from "../../src/web/event-words.js";
import { createSessionSigner, readCookie, SESSION_TTL_MS } from "../../src/web/session.js";

describe("incident log sessions", () => {
  const now = new Date("2026-11-26T12:00:00Z");

  it("a cookie names its token and expires; it holds no token and a changed byte breaks it", () => {
    const signer = createSessionSigner();
    const cookie = signer.issue({ tokenName: "ops-laptop", tokenId: 7 }, now);
    expect(signer.verify(cookie, now)).toEqual({ tokenName: "ops-laptop", tokenId: 7 });
    expect(signer.verify(cookie, new Date(now.getTime() + SESSION_TTL_MS - 1000))).toEqual({
      tokenName: "ops-laptop",
      tokenId: 7,
    });
    expect(signer.verify(cookie, new Date(now.getTime() + SESSION_TTL_MS))).toBeNull();
    const forged = cookie.replace(
      /^v2\.[^.]+\.7\./,
      `v2.${Buffer.from("bootstrap").toString("base64url")}..`,
    );
    expect(forged).not.toBe(cookie);
    expect(signer.verify(forged, now)).toBeNull();
    expect(signer.verify(cookie.replace(".7.", ".8."), now)).toBeNull();
    expect(signer.verify(signer.issue({ tokenName: "bootstrap" }, now), now)).toEqual({
      tokenName: "bootstrap",
    });
    expect(signer.verify(`${cookie.slice(0, -2)}AA`, now)).toBeNull();
    expect(signer.verify("garbage", now)).toBeNull();
    expect(createSessionSigner().verify(cookie, now)).toBeNull();
  });

  it("reads one cookie out of a header", () => {
    expect(readCookie("a=1; mlops_session=v1.x.y.z; b=2", "mlops_session")).toBe("v1.x.y.z");
    expect(readCookie("a=1", "mlops_session")).toBeUndefined();
    expect(readCookie(undefined, "mlops_session")).toBeUndefined();
  });
});

describe("the incident's metric over its monitor runs", () => {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 26, 10, m));
  const driftRun = (m: number, value: number) => ({
    startedAt: at(m),
    status: "ok",
    metrics: { drift_share: 0.1, columns: { amount: { method: "psi", value, threshold: 0.2 } } },
  });

  it("reads a drifted column's value and threshold, skipping runs without numbers", () => {
    const series = metricSeries("drift", "amount", { method: "psi", value: 0.4 }, [
      driftRun(0, 0.05),
      { startedAt: at(5), status: "skipped", metrics: {} },
      driftRun(10, 0.41),
    ]);
    expect(series.label).toBe("psi of amount");
    expect(series.points.map((p) => p.value)).toEqual([0.05, 0.41]);
    expect(series.threshold).toBe(0.2);
  });

  it("reads confidence shares with the alert's fixed threshold", () => {
    const series = metricSeries("confidence", "low_confidence", { max_low_share: 0.2 }, [
      { startedAt: at(0), status: "alert", metrics: { low_share: 0.5 } },
    ]);
    expect(series).toMatchObject({ points: [{ value: 0.5 }], threshold: 0.2 });
  });

  it("draws an SVG with the line, the threshold and the opening, labels escaped", () => {
    const series = metricSeries("drift", "<amount>", { method: "psi" }, [
      { ...driftRun(0, 0.1), metrics: { columns: { "<amount>": { value: 0.1, threshold: 0.2 } } } },
      { ...driftRun(10, 0.3), metrics: { columns: { "<amount>": { value: 0.3, threshold: 0.2 } } } },
    ]);
    const svg = lineChart(series, { openedAt: at(10), resolvedAt: null }).value;
    expect(svg).toContain('<svg class="chart"');
    expect(svg).toContain('<polyline fill="none"');
    expect(svg).toContain("threshold 0.2");
    expect(svg).toContain("opened");
    expect(svg).toContain("psi of &lt;amount&gt;");
    expect(svg).not.toContain("<amount>");
    expect(
      lineChart({ label: "x", points: [], threshold: null }, { openedAt: at(0), resolvedAt: null }).value,
    ).toContain("No monitor runs");
  });

  it("says a single run is too little history instead of drawing a one-point plot", () => {
    const series = metricSeries("drift", "amount", { method: "psi" }, [driftRun(0, 0.3)]);
    const out = lineChart(series, { openedAt: at(0), resolvedAt: null }).value;
    expect(out).not.toContain("<svg");
    expect(out).toContain("Only one monitor run with this metric so far (0.3): too little history to draw.");
  });
});

describe("timeline events in words", () => {
  it("words each kind of event, with numbers formatted, and never shows raw JSON", () => {
    expect(
      eventWords("opened", {
        title: "Drift in amount: psi 0.34",
        rule: "PSI >= 0.2 (fixed threshold)",
        metrics: { value: 0.341736, threshold: 0.2 },
      }),
    ).toBe(
      "Opened: Drift in amount: psi 0.34. Rule: PSI >= 0.2 (fixed threshold). Numbers: value 0.342 · threshold 0.2.",
    );
    expect(eventWords("acknowledged", { from: "open", to: "acknowledged" })).toBe("open → acknowledged");
    expect(eventWords("resolved", { from: "acknowledged", to: "resolved", note: "fixed the feed" })).toBe(
      "acknowledged → resolved: fixed the feed",
    );
    expect(eventWords("refused", { action: "resolve", allowed: ["l2", "owners"] })).toBe(
      "Refused to resolve: that takes l2, owners. Nothing changed.",
    );
    expect(eventWords("posted", { what: "chart", title: "Drift of amount over recent runs" })).toBe(
      "Posted the chart: Drift of amount over recent runs.",
    );
    const other = eventWords("escalated", { fromTier: 1, toTier: 2, page: { handle: "ds-oncall", dms: 3 } });
    expect(other).toBe("from tier 1 · to tier 2 · page handle ds-oncall · dms 3.");
    expect(other).not.toContain("{");
  });
});
