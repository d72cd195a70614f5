#!/usr/bin/env bash
# A Debian 12 image with real package databases, for `berth scout`'s tests and benchmark: made
# with debootstrap from Debian's mirror (slow: built once, cached by scripts/fixtures.ts --debian).
# Needs root and Debian's debootstrap, buildah and skopeo.
#
#   scripts/make-debian.sh OUTDIR
#
# OUTDIR/oci           an OCI image layout with the tag debian-12
# OUTDIR/MANIFEST.txt  "TAG MEDIATYPE DIGEST"
#
# debian-12  layer 1: `debootstrap --variant=minbase bookworm` with less, libssl3, libexpat1 and
#            zlib1g (apt's caches emptied); layer 2: `dpkg --purge less` (a package a later layer
#            removes); CMD ["bash"]
set -euo pipefail
out=${1:?usage: make-debian.sh OUTDIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
for tool in debootstrap buildah skopeo; do
  command -v "$tool" >/dev/null || { echo "make-debian: $tool is missing: apt-get install -y debootstrap buildah skopeo" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
trap 'bh rm --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export BUILDAH_ISOLATION=chroot

rootfs=$work/rootfs
debootstrap --variant=minbase --include=less,libssl3,libexpat1,zlib1g bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
ctr=$(bh from scratch)
bh add "$ctr" "$rootfs" / >/dev/null
bh config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --created-by '/bin/sh -c #(nop) ADD file:debootstrap-minbase-bookworm in / ' "$ctr"
bh commit --quiet "$ctr" debian-step:1 >/dev/null
ctr=$(bh from debian-step:1)
bh run "$ctr" -- dpkg --purge less >/dev/null
bh config --created-by '/bin/sh -c dpkg --purge less' "$ctr"
bh commit --quiet "$ctr" debian:12 >/dev/null

rm -rf "$out/oci"
bh push --quiet debian:12 "oci:$out/oci:debian-12"
raw=$(skopeo inspect --raw "oci:$out/oci:debian-12")
media=$(printf '%s' "$raw" | grep -o '"mediaType":"[^"]*"' | head -n 1 | cut -d '"' -f 4)
echo "debian-12 $media sha256:$(printf '%s' "$raw" | sha256sum | cut -d ' ' -f 1)" >"$out/MANIFEST.txt"
cat "$out/MANIFEST.txt"
