import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

// The browser tests drive Debian's Chromium (/usr/bin/chromium; playwright-core downloads none).
// On a machine without it they are left out with a warning, so `npm test` works on a fresh
// checkout; CI (CI=true) always runs them, and `.ci/run` installs Chromium first.
const chromium = existsSync("/usr/bin/chromium");
const skipBrowser = !chromium && !process.env.CI;
if (skipBrowser)
  console.warn(
    "mlops-bot: Chromium is not at /usr/bin/chromium, so test/browser/ is left out (apt-get install -y chromium runs it)",
  );

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**", ...(skipBrowser ? ["test/browser/**"] : [])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Each file gets its own database; two workers keep the 2-core CI machine busy without thrashing.
    maxWorkers: 2,
  },
});
