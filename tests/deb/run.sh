#!/usr/bin/env bash
# The packages on real Debian 13 nodes: installs build/deb's mosix-tools and
# mosix-modules-RELEASE with dpkg into a Debian 13 root (debootstrap, systemd as init), enables
# mosix.service as an administrator would, boots two such nodes on the stock kernel in the rig
# and runs t-node.sh on both (a process migrates between them and comes home; stopping the
# service evacuates and unloads). Prints "deb: P passed, F failed".
# Needs `make deb` and `make stock-kernel` first (`make test-deb` does both).
#   tests/deb/run.sh --image FILE   only make the node image (to boot by hand with
#                                   scripts/cluster --kernel build/stock/vmlinuz --image FILE)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REL="${MOSIX_STOCK_RELEASE:-7.3.4+deb13-amd64}"
die() { echo "deb: $*" >&2; echo "deb: 0 passed, 1 failed"; exit 1; }
NODE_ROOT=$("$ROOT/scripts/debian13.sh" node-root) || die "no Debian 13 node root"
KMODS="$ROOT/build/stock/kmods"
[ -f "$KMODS/order" ] || die "no stock kernel modules in $KMODS (make stock-kernel)"
debs=$(ls "$ROOT"/build/deb/mosix-tools_*_amd64.deb "$ROOT"/build/deb/mosix-modules-"$REL"_*_amd64.deb 2> /dev/null)
[ "$(wc -w <<< "$debs")" = 2 ] || die "build/deb holds $(wc -w <<< "$debs") of the two packages (make deb)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r="$work/root"
echo "deb: a node root with $(for d in $debs; do basename "$d"; done | paste -sd' ')"
cp -a "$NODE_ROOT" "$r"
# The stock kernel's virtio-net modules where modprobe finds them (the packages' depmod
# indexes them with mosix.ko).
mkdir -p "$r/usr/lib/modules/$REL/kernel/net" "$r/usr/lib/debs"
while read -r k; do install -m 644 "$KMODS/$k" "$r/usr/lib/modules/$REL/kernel/net/$k"; done < "$KMODS/order"
cp $debs "$r/usr/lib/debs/"
# As an administrator installs them (dpkg -i; apt would fetch nothing more: the root has
# every dependency), and enables the service.
unshare --mount --propagation private -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" sh -ec "
  dpkg -i /usr/lib/debs/*.deb
  systemctl enable mosix.service
"' "$r" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg -i failed"; }
grep -E '^(Setting up|Unpacking)' "$work/dpkg.log" | sed 's/^/deb:   /'
[ -f "$r/usr/lib/modules/$REL/modules.dep" ] && grep -q 'updates/mosix.ko' "$r/usr/lib/modules/$REL/modules.dep" ||
  die "the module package's depmod did not index mosix.ko"
# The test programs, where the VM tests have them.
mkdir -p "$r/opt/mosix-tests"
cp "$ROOT"/build/progs/* "$r/opt/mosix-tests/"
# The rig's side: its units (network from the command line, the test runner), no gettys.
install -D -m 755 "$ROOT/tests/deb/node/net" "$r/usr/lib/mosixvm/net"
install -D -m 755 "$ROOT/tests/deb/node/run-test" "$r/usr/lib/mosixvm/run-test"
for u in mosixvm-net.service mosixvm-test.service; do
  install -m 644 "$ROOT/tests/deb/node/$u" "$r/usr/lib/systemd/system/$u"
done
mkdir -p "$r/etc/systemd/system/network-online.target.wants" "$r/etc/systemd/system/multi-user.target.wants"
ln -sfn /usr/lib/systemd/system/mosixvm-net.service "$r/etc/systemd/system/network-online.target.wants/"
ln -sfn /usr/lib/systemd/system/mosixvm-test.service "$r/etc/systemd/system/multi-user.target.wants/"
for g in getty@tty1.service serial-getty@ttyS0.service console-getty.service; do ln -sfn /dev/null "$r/etc/systemd/system/$g"; done
ln -sfn /sbin/init "$r/init"
# An unprivileged user (uid 1000) for the tests, as the busybox guests have.
grep -q '^user:' "$r/etc/passwd" || {
  echo 'user:x:1000:1000:user:/home/user:/bin/sh' >> "$r/etc/passwd"
  echo 'user:x:1000:' >> "$r/etc/group"
  echo 'user:*:20000:0:99999:7:::' >> "$r/etc/shadow"
  install -d -o 1000 -g 1000 "$r/home/user"
}
# The rig writes /etc/mosix.map and the cluster key in its overlay.
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$work/node.cpio.gz"
echo "deb: node image $(( $(stat -c %s "$work/node.cpio.gz") / 1024 / 1024 )) MiB"
rm -rf "$r"
if [ "${1:-}" = --image ]; then
  mv "$work/node.cpio.gz" "${2:?--image needs a file}"
  exit 0
fi

out="$work/out"
"$ROOT/scripts/cluster" --nodes 2 --mem 1536 --kernel "$ROOT/build/stock/vmlinuz" --image "$work/node.cpio.gz" \
  --timeout 600 --run "$ROOT/tests/deb/t-node.sh" --add "$ROOT/tests/vm/lib.sh" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
p=$(sed -n 's/.*node [0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$out" | paste -sd+ | bc)
f=$(sed -n 's/.*node [0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$out" | paste -sd+ | bc)
p=${p:-0}; f=${f:-0}
[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
echo "deb: $p passed, $f failed"
[ "$f" = 0 ]
