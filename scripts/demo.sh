#!/usr/bin/env bash
# Generates the demo collection (if needed) and scans it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/envhunt
$bin help
