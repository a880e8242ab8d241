/**
 * Manages API tokens: `npm run token:create -- <name> [--scope ingest[,alerts…]]…`, `npm run token:revoke -- <name>`,
 * `npm run token:list`. Uses the same database settings as the bot (DATABASE_URL or PGlite in
 * MLOPS_DATA_DIR); with PGlite, stop the bot first (one process at a time). A token made without
 * `--scope` may do everything; scopes: ingest, alerts, pipeline, read, admin, calendar.
 */
import { ApiTokenError, createApiTokenService, TOKEN_SCOPES } from "../src/api-tokens/index.js";
import { ConfigError, parseEnv } from "../src/config/index.js";
import { openDatabase } from "../src/db/index.js";
import { systemClock } from "../src/shared/clock.js";
import { createLogger } from "../src/shared/logger.js";

const args = process.argv.slice(2);
const scopes: string[] = [];
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i] as string;
  if (arg === "--scope" || arg === "--scopes") scopes.push(...(args[++i] ?? "").split(","));
  else if (arg.startsWith("--scope=") || arg.startsWith("--scopes="))
    scopes.push(...arg.slice(arg.indexOf("=") + 1).split(","));
  else positional.push(arg);
}
const [command, name] = positional;
const usage = `usage: token create <name> [--scope ${TOKEN_SCOPES.join("|")}]… | token revoke <name> | token list`;

async function main(): Promise<number> {
  const env = parseEnv(process.env);
  const logger = createLogger("warn");
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.MLOPS_DATA_DIR }, logger);
  let tokens: ReturnType<typeof createApiTokenService> | undefined;
  try {
    await database.migrate();
    tokens = createApiTokenService(database.db, systemClock);
    if (command === "create" && name) {
      const wanted = scopes.map((s) => s.trim()).filter(Boolean);
      const token = await tokens.create(name, wanted);
      process.stdout.write(`${token}\n`);
      const may = wanted.length ? `scopes ${[...new Set(wanted)].sort().join(", ")}` : "all scopes";
      process.stderr.write(
        `Created API token "${name}" (${may}). It is shown only now; store it as a secret.\n`,
      );
    } else if (command === "revoke" && name) {
      await tokens.revoke(name);
      process.stderr.write(`Revoked API token "${name}".\n`);
    } else if (command === "list") {
      for (const t of await tokens.list()) {
        const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : "active";
        const may = t.scopes.length ? t.scopes.join(",") : "all";
        process.stdout.write(
          `${t.name}\t${t.prefix}…\t${may}\t${state}\tlast used ${t.lastUsedAt?.toISOString() ?? "never"}\n`,
        );
      }
    } else {
      process.stderr.write(`${usage}\n`);
      return 64;
    }
    return 0;
  } finally {
    await tokens?.close();
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
