#!/usr/bin/env bash
# Debian 13's stock kernel, for building mosix.ko and for booting test guests. Cached under
# ~/.cache/mosix/debian13; a second run is a no-op.
#
#   scripts/debian13.sh root                 the Debian 13 build root (debootstrap: Debian's own
#                                            rustc, bindgen, libclang and gcc-14, the stock
#                                            kernel's headers and source); prints its path
#   scripts/debian13.sh kernel               the stock kernel's tree, prepared in the root
#                                            (modules_prepare builds its Rust crates); prints it
#   scripts/debian13.sh module [--clippy] OUT
#                                            builds mosix.ko for the stock kernel into OUT
#                                            (--clippy: CLIPPY=1 W=1, fails on any warning)
#   scripts/debian13.sh guest                the stock kernel image and the virtio-net modules a
#                                            guest loads; prints the directory
#   scripts/debian13.sh sign KEY CERT KO     signs a module with the kernel's sign-file
#   scripts/debian13.sh node-root            a Debian 13 node's root (systemd), for tests/deb
#
# MOSIX_STOCK_RELEASE picks the kernel release (default: the one this project is tested on).
# The stock kernel's Rust symbols carry a hash of the exact rustc that built it, so the module
# must be built with Debian's own rustc of that release: the host's rustup toolchain cannot
# (rust/ ABI), and neither can a newer backported rustc. Nothing here installs on the host:
# the root is a directory, entered with chroot in a private mount namespace.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE="${MOSIX_CACHE:-$HOME/.cache/mosix}"
REL="${MOSIX_STOCK_RELEASE:-7.3.4+deb13-amd64}"
D13="$CACHE/debian13"
R="$D13/root"
KB="/build/kb-$REL"
log() { echo "debian13: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
[[ "$REL" =~ ^[0-9]+\.[0-9]+\.[0-9]+\+deb13-amd64$ ]] || die "MOSIX_STOCK_RELEASE '$REL' is not a Debian 13 amd64 kernel release (like 7.3.4+deb13-amd64)"
KVER=${REL%%+*}                  # 7.3.4
SERIES=${KVER%.*}                # 7.3

# in_root CMD...: runs CMD in the root, with /proc, in a mount namespace of its own (the mount
# goes away with it; nothing is left mounted on the host).
in_root() {
  unshare --mount --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R" "$@"
}

make_root() {
  [ -f "$R/.mosix-root" ] && return 0
  command -v debootstrap > /dev/null || die "debootstrap is missing (scripts/setup-host.sh installs it)"
  local mirror
  mirror=$("$HERE/setup-host.sh" --mirror)
  rm -rf "$R"; mkdir -p "$D13"
  log "debootstrap trixie into $R (about 2 minutes)"
  debootstrap --variant=minbase \
    --include=rustc,rust-src,rust-clippy,rustfmt,bindgen,libclang-dev,gcc-14,make,flex,bison,bc,libelf-dev,libssl-dev,openssl,python3,kmod,xz-utils,dwarves,cpio \
    trixie "$R" "$mirror" > "$D13/debootstrap.log" 2>&1 || { tail -n 20 "$D13/debootstrap.log" >&2; die "debootstrap failed (log: $D13/debootstrap.log)"; }
  cat > "$R/etc/apt/sources.list.d/trixie-backports.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cp /etc/resolv.conf "$R/etc/resolv.conf"
  log "installing linux-headers-$REL and linux-source-$SERIES (trixie-backports)"
  in_root apt-get update -qq > "$D13/apt.log" 2>&1 || { cat "$D13/apt.log" >&2; die "apt-get update in the root failed"; }
  local ver
  ver=$(in_root apt-cache show "linux-headers-$REL" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
  [ -n "$ver" ] || die "linux-headers-$REL is not in trixie-backports (set MOSIX_STOCK_RELEASE to a release it has)"
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "linux-headers-$REL=$ver" "linux-source-$SERIES=$ver" >> "$D13/apt.log" 2>&1 ||
    { tail -n 20 "$D13/apt.log" >&2; die "could not install the headers and the source of $REL at version $ver"; }
  echo "$ver" > "$R/.mosix-root"
}

make_kernel() {
  make_root
  [ -f "$R$KB/.mosix-done" ] && return 0
  local h="/usr/src/linux-headers-$REL" want have
  # The root's rustc must be the one the stock kernel was built with.
  want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$R$h/.config")
  have=$(in_root rustc --version)
  [ "$want" = "$have" ] || die "the stock kernel was built with '$want' but the Debian 13 root has '$have'"
  log "preparing the $REL tree in the root (modules_prepare builds rust/: about 4 minutes)"
  in_root sh -ec "
    rm -rf /build/ksrc-$KVER $KB; mkdir -p /build/ksrc-$KVER $KB
    tar -xf /usr/src/linux-source-$SERIES.tar.xz -C /build/ksrc-$KVER --strip-components=1
    cp $h/.config $KB/.config
    make -s -C /build/ksrc-$KVER O=$KB $(kmake_vars) olddefconfig
    cmp -s $h/.config $KB/.config || { echo 'olddefconfig changed the stock config' >&2; exit 1; }
    make -s -C /build/ksrc-$KVER O=$KB $(kmake_vars) -j$(nproc) modules_prepare
    cp $h/Module.symvers $h/vmlinux $KB/
  " >&2 || die "preparing the kernel tree failed"
  touch "$R$KB/.mosix-done"
}

# What the stock kernel's own headers package sets (its .kernelvariables).
kmake_vars() {
  echo "ARCH=x86 CROSS_COMPILE=x86_64-linux-gnu- CC=x86_64-linux-gnu-gcc-14 KERNELRELEASE=$REL"
}

build_module() {
  local clippy=0 out=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --clippy) clippy=1 ;;
      -*) die "module: unknown option $1" ;;
      *) out=$1 ;;
    esac
    shift
  done
  [ -n "$out" ] || die "module: say where mosix.ko goes"
  make_kernel
  # One module build at a time in the root: two (a CI run and a lint run by hand, say) would
  # share its build directory and mix their sources. The lock goes when this script ends.
  mkdir -p "$R/build"
  exec 9> "$R/build/.module.lock"
  flock 9
  # The module's sources, copied in (the root sees nothing of the host).
  mkdir -p "$R/build/mosix"
  rsync -a --delete --include='/Kbuild' --include='/module/***' --include='/mosix-core/' \
    --include='/mosix-core/src/***' --exclude='*' "$ROOT/" "$R/build/mosix/"
  local extra="" log
  if [ "$clippy" = 1 ]; then
    extra="CLIPPY=1 W=1"
    find "$R"/build/mosix/module \( -name "*.o" -o -name ".*.o.cmd" \) -delete
  fi
  log=$(mktemp)
  if ! in_root make -C "/build/ksrc-$KVER" O="$KB" $(kmake_vars) M=/build/mosix $extra modules > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; die "the module build for $REL failed"
  fi
  cat "$log" >&2
  if [ "$clippy" = 1 ] && grep -qiE '(^|[^a-z_])(warning|error)(\[|:)' "$log"; then
    rm -f "$log"; die "the module build for $REL with CLIPPY=1 W=1 printed warnings (above)"
  fi
  rm -f "$log"
  mkdir -p "$(dirname "$out")"
  cp "$R/build/mosix/module/mosix.ko" "$out"
  [ "$clippy" = 1 ] && log "CLIPPY=1 W=1 build for $REL clean"
  return 0
}

# The guest side: vmlinuz and the modules virtio-net needs, from the stock packages.
fetch_guest() {
  local g="$D13/guest-$REL"
  if [ ! -f "$g/.done" ]; then
    make_root
    rm -rf "$g"; mkdir -p "$g/deb"
    log "fetching the stock kernel $REL (linux-binary, linux-modules)"
    (cd "$g/deb" && in_root_download "linux-binary-$REL" "linux-modules-$REL")
    for d in "$g"/deb/*.deb; do dpkg-deb -x "$d" "$g/x"; done
    local m="$g/x/usr/lib/modules/$REL"
    [ -f "$m/vmlinuz" ] || die "no vmlinuz in linux-binary-$REL"
    mkdir -p "$g/kmods"
    cp "$m/vmlinuz" "$g/vmlinuz"
    # Load order: what each needs first.
    local k
    for k in net/core/failover net_failover virtio_net; do
      case $k in net/*) ;; *) k=drivers/net/$k ;; esac
      cp "$m/kernel/$k.ko.xz" "$g/kmods/" || die "no $k.ko.xz in linux-modules-$REL"
    done
    printf '%s\n' failover.ko.xz net_failover.ko.xz virtio_net.ko.xz > "$g/kmods/order"
    rm -rf "$g/deb" "$g/x"
    touch "$g/.done"
  fi
  echo "$g"
}

# in_root_download PKG...: apt-get download in the root (its trixie sources), into the current
# directory.
in_root_download() {
  local ver p
  mkdir -p "$R/build/dl"; rm -f "$R"/build/dl/*.deb
  for p in "$@"; do
    ver=$(cat "$R/.mosix-root")
    in_root sh -c "cd /build/dl && apt-get download -qq -o APT::Sandbox::User=root $p=$ver" >&2 || die "apt-get download $p=$ver failed"
  done
  mv "$R"/build/dl/*.deb .
}

# A Debian 13 node's root filesystem, without openMosix: minbase with systemd as init, udev,
# kmod and iproute2 (cached; tests/deb installs the packages into a copy and boots it).
make_node_root() {
  local n="$D13/node-root"
  if [ ! -f "$n/.mosix-root" ]; then
    local mirror
    mirror=$("$HERE/setup-host.sh" --mirror)
    rm -rf "$n"
    log "debootstrap a Debian 13 node root (systemd, udev, kmod, iproute2) into $n"
    debootstrap --variant=minbase --include=systemd-sysv,udev,kmod,iproute2,procps \
      trixie "$n" "$mirror" > "$D13/node-debootstrap.log" 2>&1 ||
      { tail -n 20 "$D13/node-debootstrap.log" >&2; die "debootstrap of the node root failed"; }
    # Smaller: no documentation, locales or package lists (a guest holds it all in RAM).
    rm -rf "$n"/usr/share/doc/* "$n"/usr/share/locale/* "$n"/usr/share/man/* "$n"/var/lib/apt/lists/* \
      "$n"/var/cache/apt/*.bin "$n"/var/cache/apt/archives/*.deb
    touch "$n/.mosix-root"
  fi
  echo "$n"
}

# sign KEY CERT KO: signs KO in place with the stock kernel's sign-file (sha256), as Debian
# signs its own modules; a node with Secure Boot loads it once CERT is enrolled (README).
sign_module() {
  [ $# = 3 ] || die "sign: give KEY CERT MODULE"
  make_root
  local sf="/usr/lib/linux-kbuild-${REL%-amd64}/scripts/sign-file" w="$R/build/sign"
  [ -x "$R$sf" ] || die "no sign-file at $sf in the root"
  rm -rf "$w"; mkdir -p "$w"
  install -m 600 "$1" "$w/key.pem"; cp "$2" "$w/cert"; cp "$3" "$w/mosix.ko"
  in_root "$sf" sha256 /build/sign/key.pem /build/sign/cert /build/sign/mosix.ko || { rm -rf "$w"; die "sign-file failed"; }
  cp "$w/mosix.ko" "$3"
  rm -rf "$w"
  log "signed $(basename "$3") with $(basename "$2")"
}

case "${1:-}" in
  root) make_root; echo "$R" ;;
  sign) shift; sign_module "$@" ;;
  node-root) make_node_root ;;
  kernel) make_kernel; echo "$R$KB" ;;
  module) shift; build_module "$@" ;;
  guest) fetch_guest ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
