# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev dependencies, ship only production dependencies.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY extenders extenders
RUN npm run build

FROM node:24-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# The heap and malloc settings the service is measured with (src/server/runtime-flags.ts says why;
# test/server/runtime-flags.test.ts keeps this line in step with it and with the bench).
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=16" MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=production-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
# KEDA's externalscaler.proto, loaded at run time by the external scaler (--keda-grpc-port).
COPY proto proto
# The bundled example cluster and shipped config: the default when no cluster is configured.
COPY examples examples
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve", "--config", "examples/config/neuronetes.yaml"]
