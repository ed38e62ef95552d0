#!/usr/bin/env bash
# Installs everything the build and the VM tests need on a Debian 12 host, idempotently.
#   - Debian packages (qemu, busybox, kernel build deps, iproute2, debootstrap)
#   - rust-src, bindgen-cli, libclang (PyPI wheel) for the kernel's Rust
#   - linux-source-7.3 from trixie-backports, fetched with apt-get download + dpkg-deb -x so
#     nothing from the newer suite is installed on the host.
# Prints `export` lines for the environment on stdout when called with --env.
set -euo pipefail
CACHE="${MOSIX_CACHE:-$HOME/.cache/mosix}"
mkdir -p "$CACHE"
log() { echo "setup-host: $*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

need_apt=()
for p in qemu-system-x86 busybox-static build-essential flex bison bc libelf-dev libssl-dev \
         cpio iproute2 kmod python3-pip xz-utils rsync tmux file debootstrap; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done

# The Debian mirror this machine already uses (never a name written here).
debian_mirror() {
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" {print $2}';
    cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" {print $2}'; } |
    grep -E '/debian/?$' | head -n1 || true
}
if [ "${1:-}" = --mirror ]; then
  uri=$(debian_mirror)
  [ -n "$uri" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
  echo "$uri"; exit 0
fi

# --- trixie-backports source, derived from the machine's own Debian sources, pinned low -----
BPO_LIST=/etc/apt/sources.list.d/mosix-trixie-backports.sources
if [ ! -f "$BPO_LIST" ]; then
  uri=$(debian_mirror)
  [ -n "$uri" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
  key=/usr/share/keyrings/debian-archive-keyring.gpg
  log "adding trixie-backports from $uri (pinned to priority 1)"
  $SUDO tee "$BPO_LIST" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: trixie-backports
Components: main
Signed-By: $key
SRC
  $SUDO tee /etc/apt/preferences.d/mosix-trixie-backports >/dev/null <<PIN
Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
PIN
  APT_UPDATED=0
fi

if [ ${#need_apt[@]} -gt 0 ] || [ "${APT_UPDATED:-1}" = 0 ] || [ ! -f "$CACHE/.apt-updated" ]; then
  log "apt-get update"
  $SUDO apt-get update -qq >&2
  touch "$CACHE/.apt-updated"
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

# --- Rust for the kernel -------------------------------------------------------------------
for c in rust-src rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || { log "rustup component add $c"; rustup component add "$c" >&2; }
done
if ! command -v bindgen >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/bindgen" ]; then
  log "cargo install bindgen-cli"
  cargo install --locked bindgen-cli >&2
fi
PYLIB="$CACHE/pylibclang"
if [ ! -d "$PYLIB/clang/native" ]; then
  log "pip install libclang into $PYLIB"
  python3 -m pip install -q --target "$PYLIB" 'libclang>=17' >&2
fi
LIBCLANG_PATH="$PYLIB/clang/native"

# --- Linux 7.3 source ----------------------------------------------------------------------
SRC="$CACHE/linux-src"
if [ ! -f "$SRC/.done" ]; then
  rm -rf "$SRC" "$CACHE/deb"; mkdir -p "$CACHE/deb" "$SRC"
  log "apt-get download linux-source-7.3 (trixie-backports)"
  (cd "$CACHE/deb" && apt-get download -qq linux-source-7.3/trixie-backports >&2)
  deb=$(ls "$CACHE"/deb/linux-source-7.3_*.deb | head -n1)
  dpkg-deb -x "$deb" "$CACHE/deb/x"
  tarball=$(ls "$CACHE"/deb/x/usr/src/linux-source-7.3*.tar.* | head -n1)
  log "unpacking $(basename "$tarball")"
  tar -xf "$tarball" -C "$SRC" --strip-components=1
  basename "$deb" > "$SRC/.done"
  rm -rf "$CACHE/deb"
fi

if [ "${1:-}" = --env ]; then
  echo "export LIBCLANG_PATH='$LIBCLANG_PATH'"
  echo "export PATH=\"\$HOME/.cargo/bin:\$PATH\""
  echo "export MOSIX_KSRC='$SRC'"
fi
log "host ready (kernel source: $(cat "$SRC/.done"))"
