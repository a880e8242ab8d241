# mlops-bot as a container image: docs/deploy.md. Checked by test/deploy/manifests.test.ts, and
# followed step by step without Docker by .ci/image-steps.mjs in CI (keep to the instructions it knows).
#
#   docker build -t mlops-bot .
#   docker run --rm -p 3000:3000 -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… -e DATABASE_URL=… mlops-bot

# Build stage: every dependency (TypeScript is a dev dependency), then `tsc` into dist/.
FROM node:20-slim AS build
WORKDIR /app
# `npm ci` runs the `postinstall` script (scripts/patch-deps.mjs), so it must be there first.
COPY package.json package-lock.json ./
COPY scripts/patch-deps.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build

# Runtime stage: production dependencies, the compiled code and the files the bot reads at run time.
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# patch-deps.mjs needs nothing but node:fs, so it runs under --omit=dev as well.
COPY scripts/patch-deps.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/ ./dist/
# Applied at start, resolved from dist/db/ as ../../migrations (meta/_journal.json included).
COPY migrations/ ./migrations/
# The sandbox page's script and stylesheet, read from src/ beside dist/ (tsc copies no static files).
COPY src/slack/sandbox/web/static/ ./src/slack/sandbox/web/static/
# MLOPS_RUNBOOKS_DIR (./runbooks), MLOPS_CONFIG (./mlops.config.yaml) and the demo config's
# retraining commands (node scripts/demo/*.mjs).
COPY runbooks/ ./runbooks/
COPY scripts/demo/ ./scripts/demo/
COPY mlops.config.yaml ./
# The code stays root-owned (read-only to the bot); only the data directory is the bot's. It holds
# the embedded database when DATABASE_URL is unset: mount a volume there to keep it.
RUN mkdir -p /var/lib/mlops-bot && chown node:node /var/lib/mlops-bot
ENV MLOPS_DATA_DIR=/var/lib/mlops-bot
# HOST is deliberately not set: with Slack credentials the bot listens on 0.0.0.0, and without them
# (the sandbox, which acts as any Slack user for whoever reaches it) on 127.0.0.1 only, so a
# published port does not open the sandbox to the network. docs/deploy.md says how to try it.
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# Exec form, node itself as PID 1: SIGTERM reaches the bot, which drains and exits (at most 10 s).
CMD ["node", "--enable-source-maps", "dist/main.js"]
