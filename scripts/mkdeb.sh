#!/usr/bin/env bash
# `make deb`: Debian 13 packages into OUT (default build/deb):
#   mosix-tools_VERSION_amd64.deb        the tools, man pages, completions, mosix.service
#   mosix-modules-RELEASE_VERSION_amd64.deb   mosix.ko for one stock kernel release
# RELEASE: MOSIX_STOCK_RELEASE (default 7.3.4+deb13-amd64). For a newer Debian kernel, run
# `make deb MOSIX_STOCK_RELEASE=<its release>` on the build machine (README: "Install on your
# nodes"). MOSIX_SIGN_KEY and MOSIX_SIGN_CERT (PEM key, X.509 certificate) sign the module.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build/deb}")
REL="${MOSIX_STOCK_RELEASE:-7.3.4+deb13-amd64}"
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)
[ -n "$VERSION" ] || { echo "mkdeb: no version in Cargo.toml" >&2; exit 1; }
# Debian revision: the commit count, so every commit's packages upgrade the last.
REV=$(git -C "$ROOT" rev-list --count HEAD 2> /dev/null || echo 0)
DEBVER="$VERSION-$REV"
MAINT="openMosix revival <mosix@invalid>"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$OUT"

# The newest glibc symbol version the dynamic tools need.
glibc=$(for t in setpe mosctl mosmon mps mosrun; do objdump -T "$ROOT/target/release/$t"; done |
        grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)

# --- mosix-tools -----------------------------------------------------------------------------
T="$STAGE/tools"
DESTDIR="$T" "$ROOT/scripts/install.sh" tools
mkdir -p "$T/DEBIAN"
cat > "$T/DEBIAN/control" <<EOF
Package: mosix-tools
Version: $DEBVER
Architecture: amd64
Maintainer: $MAINT
Section: admin
Priority: optional
Depends: libc6 (>= $glibc), libgcc-s1, kmod
Recommends: mosix-modules-$REL
Installed-Size: $(du -sk "$T" | cut -f1)
Description: openMosix cluster tools: setpe, mosctl, mosmon, mps, migrate, mosrun
 A single-system-image cluster of ordinary Debian machines: processes started on any
 node migrate, while they run, to the least-loaded node and keep working as if they had
 never left home. This package holds the administration and user tools, their manual
 pages, and mosix.service (load the module, install the node table, set the modes).
EOF
printf '%s\n' /etc/default/mosix /etc/mosix.map > "$T/DEBIAN/conffiles"
cat > "$T/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  chmod 700 /etc/mosix
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
  if command -v udevadm > /dev/null && [ -d /run/udev ]; then udevadm control --reload || true; fi
fi
exit 0
EOF
cat > "$T/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
# Removing the tools while the node is up would strand its migrated processes: stop it first.
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl stop mosix.service || true; fi
exit 0
EOF
cat > "$T/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
EOF
chmod 755 "$T"/DEBIAN/postinst "$T"/DEBIAN/prerm "$T"/DEBIAN/postrm
dpkg-deb --root-owner-group -Zxz --build "$T" "$OUT/mosix-tools_${DEBVER}_amd64.deb" > /dev/null

# --- mosix-modules-RELEASE -------------------------------------------------------------------
M="$STAGE/module"
DESTDIR="$M" MOSIX_STOCK_RELEASE="$REL" "$ROOT/scripts/install.sh" module
if [ -n "${MOSIX_SIGN_KEY:-}" ] || [ -n "${MOSIX_SIGN_CERT:-}" ]; then
  [ -r "${MOSIX_SIGN_KEY:-}" ] && [ -r "${MOSIX_SIGN_CERT:-}" ] ||
    { echo "mkdeb: MOSIX_SIGN_KEY and MOSIX_SIGN_CERT must both name readable files" >&2; exit 1; }
  "$ROOT/scripts/debian13.sh" sign "$MOSIX_SIGN_KEY" "$MOSIX_SIGN_CERT" "$M/usr/lib/modules/$REL/updates/mosix.ko"
fi
mkdir -p "$M/DEBIAN"
cat > "$M/DEBIAN/control" <<EOF
Package: mosix-modules-$REL
Version: $DEBVER
Architecture: amd64
Maintainer: $MAINT
Section: kernel
Priority: optional
Depends: mosix-tools (= $DEBVER)
Recommends: linux-image-$REL
Provides: mosix-modules
Installed-Size: $(du -sk "$M" | cut -f1)
Description: openMosix kernel module for Linux $REL
 mosix.ko for Debian 13's kernel $REL: load accounting and gossip, preemptive process
 migration and the home-node deputies of migrated processes. Built with the Debian
 toolchain that built that kernel.
EOF
for s in postinst postrm; do
  cat > "$M/DEBIAN/$s" <<EOF
#!/bin/sh
set -e
if [ -d /usr/lib/modules/$REL ] && command -v depmod > /dev/null; then depmod -a $REL; fi
exit 0
EOF
  chmod 755 "$M/DEBIAN/$s"
done
dpkg-deb --root-owner-group -Zxz --build "$M" "$OUT/mosix-modules-${REL}_${DEBVER}_amd64.deb" > /dev/null
ls -1 "$OUT"/*_"$DEBVER"_amd64.deb
