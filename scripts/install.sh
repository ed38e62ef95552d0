#!/usr/bin/env bash
# What `make install` does (DESTDIR honoured: everything goes under it; nothing else runs then).
#   scripts/install.sh tools    the tools (setpe, mosctl, mosix-adopt in /usr/sbin; mosmon, mps,
#                               migrate, mosrun and mosrun's wrappers in /usr/bin), their man
#                               pages and shell completions, mosix.service and its helper
#                               /usr/lib/mosix/mosix-node, the udev rule for /dev/mosix,
#                               /etc/default/mosix and /etc/mosix.map (each only if absent)
#   scripts/install.sh module   build/stock/mosix.ko into /usr/lib/modules/RELEASE/updates, then
#                               depmod (without DESTDIR)
# Inputs: target/release/ (make tools), build/docs/ (make docs), build/stock/mosix.ko.
# RELEASE: MOSIX_STOCK_RELEASE, default the stock kernel the module was built for.
# mosix-adopt goes to /usr/sbin: the module runs /sbin/mosix-adopt first, which on Debian 13
# (merged /usr) is the same file.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D="${DESTDIR:-}"
REL="${MOSIX_STOCK_RELEASE:-7.3.4+deb13-amd64}"
SBIN_TOOLS="setpe mosctl mosix-adopt"
BIN_TOOLS="mosmon mps migrate mosrun"
WRAPPERS="nomig runhome runon cpujob iojob nodecay slowdecay fastdecay"
die() { echo "install: $*" >&2; exit 1; }
need() { [ -e "$1" ] || die "$1 is missing (run \`make $2\` first)"; }

tools() {
  local t f
  for t in $SBIN_TOOLS $BIN_TOOLS; do need "$ROOT/target/release/$t" tools; done
  need "$ROOT/build/docs/man" docs
  for t in $SBIN_TOOLS; do install -D -s -m 755 "$ROOT/target/release/$t" "$D/usr/sbin/$t"; done
  for t in $BIN_TOOLS; do install -D -s -m 755 "$ROOT/target/release/$t" "$D/usr/bin/$t"; done
  for t in $WRAPPERS; do ln -sfn mosrun "$D/usr/bin/$t"; done
  for f in "$ROOT"/build/docs/man/*.[18]; do
    install -D -m 644 "$f" "$D/usr/share/man/man${f##*.}/$(basename "$f")"
    gzip -9nf "$D/usr/share/man/man${f##*.}/$(basename "$f")"
  done
  for f in "$ROOT"/build/docs/completions/bash/*; do install -D -m 644 "$f" "$D/usr/share/bash-completion/completions/$(basename "$f")"; done
  for f in "$ROOT"/build/docs/completions/zsh/*; do install -D -m 644 "$f" "$D/usr/share/zsh/vendor-completions/$(basename "$f")"; done
  for f in "$ROOT"/build/docs/completions/fish/*; do install -D -m 644 "$f" "$D/usr/share/fish/vendor_completions.d/$(basename "$f")"; done
  install -D -m 644 "$ROOT/packaging/mosix.service" "$D/usr/lib/systemd/system/mosix.service"
  install -D -m 755 "$ROOT/packaging/mosix-node" "$D/usr/lib/mosix/mosix-node"
  install -D -m 644 "$ROOT/packaging/60-mosix.rules" "$D/usr/lib/udev/rules.d/60-mosix.rules"
  install -D -m 644 "$ROOT/README.md" "$D/usr/share/doc/mosix-tools/README.md"
  [ -e "$D/etc/default/mosix" ] || install -D -m 644 "$ROOT/packaging/default" "$D/etc/default/mosix"
  [ -e "$D/etc/mosix.map" ] || install -D -m 644 "$ROOT/packaging/mosix.map" "$D/etc/mosix.map"
  install -d -m 700 "$D/etc/mosix"
  if [ -z "$D" ] && command -v systemctl > /dev/null; then systemctl daemon-reload || true; fi
  return 0
}

module() {
  need "$ROOT/build/stock/mosix.ko" module
  local have
  have=$(modinfo -F vermagic "$ROOT/build/stock/mosix.ko" | cut -d' ' -f1)
  [ "$have" = "$REL" ] || die "build/stock/mosix.ko is for kernel $have, not $REL (MOSIX_STOCK_RELEASE)"
  install -D -m 644 "$ROOT/build/stock/mosix.ko" "$D/usr/lib/modules/$REL/updates/mosix.ko"
  # As the kernel's own modules are installed (INSTALL_MOD_STRIP=1): no DWARF, BTF kept.
  strip --strip-debug "$D/usr/lib/modules/$REL/updates/mosix.ko"
  if [ -z "$D" ]; then depmod -a "$REL"; fi
}

case "${1:-}" in
  tools) tools ;;
  module) module ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
