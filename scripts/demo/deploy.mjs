#!/usr/bin/env node
// The demo's "deployment": logs the traffic split it was asked for. A real deploy adapter would set
// e.g. KServe's canaryTrafficPercent, or Seldon's traffic weights, to MLOPS_CHALLENGER_SHARE.
const action = process.env.MLOPS_ACTION ?? "?";
const share = Number(process.env.MLOPS_CHALLENGER_SHARE ?? "0");
console.log(
  `deploy ${action}: ${Math.round(share * 100)}% of ${process.env.MLOPS_MODEL} traffic to ${process.env.MLOPS_CHALLENGER_VERSION}, ` +
    `${Math.round((1 - share) * 100)}% to ${process.env.MLOPS_CHAMPION_VERSION}`,
);
