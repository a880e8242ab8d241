/**
 * Manages API tokens: `npm run token:create -- <name>`, `npm run token:revoke -- <name>`,
 * `npm run token:list`. Uses the same database settings as the bot (DATABASE_URL or PGlite in
 * MLOPS_DATA_DIR); with PGlite, stop the bot first (one process at a time).
 */
import { ApiTokenError, createApiTokenService } from "../src/api-tokens/index.js";
import { ConfigError, parseEnv } from "../src/config/index.js";
import { openDatabase } from "../src/db/index.js";
import { systemClock } from "../src/shared/clock.js";
import { createLogger } from "../src/shared/logger.js";

const [command, name] = process.argv.slice(2);
const usage = "usage: token create <name> | token revoke <name> | token list";

async function main(): Promise<number> {
  const env = parseEnv(process.env);
  const logger = createLogger("warn");
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.MLOPS_DATA_DIR }, logger);
  try {
    await database.migrate();
    const tokens = createApiTokenService(database.db, systemClock);
    if (command === "create" && name) {
      const token = await tokens.create(name);
      process.stdout.write(`${token}\n`);
      process.stderr.write(`Created API token "${name}". It is shown only now; store it as a secret.\n`);
    } else if (command === "revoke" && name) {
      await tokens.revoke(name);
      process.stderr.write(`Revoked API token "${name}".\n`);
    } else if (command === "list") {
      for (const t of await tokens.list()) {
        const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : "active";
        process.stdout.write(
          `${t.name}\t${t.prefix}…\t${state}\tlast used ${t.lastUsedAt?.toISOString() ?? "never"}\n`,
        );
      }
    } else {
      process.stderr.write(`${usage}\n`);
      return 64;
    }
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ApiTokenError || err instanceof ConfigError) {
      process.stderr.write(`token: ${err.message}\n`);
      process.exit(err instanceof ConfigError ? 78 : 1);
    }
    process.stderr.write(`token: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
