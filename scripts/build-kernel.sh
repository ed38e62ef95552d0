#!/usr/bin/env bash
# Builds the guest kernel (Linux 7.3 with CONFIG_RUST=y) out of tree under ~/.cache/mosix and
# prints the build directory. Cached by a hash of the config fragment, the source package and
# the rustc version: a second run is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$("$here/setup-host.sh" --env)"
CACHE="${MOSIX_CACHE:-$HOME/.cache/mosix}"
frag="$here/kernel/mosix.config"
key=$( { cat "$frag"; cat "$MOSIX_KSRC/.done"; rustc --version; gcc --version | head -n1; } | sha256sum | cut -c1-12)
KB="$CACHE/kbuild-$key"
if [ -f "$KB/.mosix-done" ]; then echo "$KB"; exit 0; fi
log() { echo "build-kernel: $*" >&2; }
mkdir -p "$KB"
log "configuring $KB"
make -s -C "$MOSIX_KSRC" O="$KB" KCONFIG_ALLCONFIG="$frag" allnoconfig >&2
make -s -C "$MOSIX_KSRC" O="$KB" olddefconfig >&2
missing=0
while IFS= read -r line; do
  case "$line" in CONFIG_*=*) ;; *) continue ;; esac
  grep -qx "$line" "$KB/.config" || { log "config did not stick: $line"; missing=1; }
done < "$frag"
[ "$missing" = 0 ] || { log "see 'make O=$KB menuconfig' for the dependencies"; exit 1; }
log "building (about 5 minutes on 2 cores)"
start=$(date +%s)
make -s -C "$MOSIX_KSRC" O="$KB" -j"$(nproc)" all >&2
log "built in $(( $(date +%s) - start )) s"
touch "$KB/.mosix-done"
# Keep only the newest build.
for d in "$CACHE"/kbuild-*; do [ "$d" = "$KB" ] || rm -rf "$d"; done
echo "$KB"
