#!/usr/bin/env bash
# Builds module/mosix.ko against the cached debug kernel build (build/debug/kdir).
#   --clippy   build with CLIPPY=1 and fail on any warning (the lint gate of `make test`)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
eval "$("$ROOT/scripts/setup-host.sh" --env 2>/dev/null)"
KDIR="$ROOT/build/debug/kdir"
[ -d "$KDIR" ] || { echo "make-module: no kernel build; run 'make kernel'" >&2; exit 1; }
if [ "${1:-}" = --clippy ]; then
  # Force a full rebuild so every warning is seen.
  find "$ROOT"/module \( -name "*.o" -o -name ".*.o.cmd" \) -delete
  log=$(mktemp)
  make -C "$KDIR" M="$ROOT" CLIPPY=1 W=1 modules 2>&1 | tee "$log" >&2
  if grep -qiE '(^|[^a-z_])(warning|error)(\[|:)' "$log"; then
    echo "make-module: the module build with CLIPPY=1 W=1 printed warnings (above)" >&2
    rm -f "$log"; exit 1
  fi
  rm -f "$log"
  echo "make-module: CLIPPY=1 W=1 build clean" >&2
else
  make -C "$KDIR" M="$ROOT" modules >&2
fi
