# The capa-sync worker (and CLI) for the production-like stack in docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY examples ./examples
COPY scripts ./scripts
RUN npm run build
# Scratch only: batches, outcomes and the audit trail are in the database (CAPA_DATABASE_URL).
# The worker's memory settings: see src/temporal/worker-memory.ts.
ENV CAPA_DATA_DIR=/tmp/capa-sync CAPA_SYNC_DIST=1 MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=4"
ENTRYPOINT ["node", "bin/capa-sync.js"]
CMD ["worker"]
