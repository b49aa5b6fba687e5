#!/usr/bin/env bash
# Installs the peer servers of `bun bench crud` (Fastify 5 + better-sqlite3 on
# Node) into bench/peers/node_modules. Optional: without them the crud suite
# leaves the peer rows out. better-sqlite3 builds from source when no prebuilt
# binary can be fetched, which needs a C++ toolchain and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../bench/peers"
npm install --no-audit --no-fund --no-package-lock --foreground-scripts
node -e 'require("better-sqlite3")(":memory:").prepare("SELECT 1").get(); console.log("bench peers ready: fastify", require("fastify/package.json").version, "+ better-sqlite3 on node", process.version)'
