#!/usr/bin/env bash
# Runs every test of the workspace. (Real system servers are added by the infra work.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
