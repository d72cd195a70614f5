#!/usr/bin/env bash
# Berth's test images, built with buildah from content this script makes itself, with fixed
# timestamps, so one machine gets the same digests on every run (the busybox binary is the
# machine's own, so two machines may differ: tests read digests from MANIFEST.txt).
# Needs root and Debian's buildah, skopeo and busybox-static.
#
#   scripts/make-images.sh OUTDIR [--big]
#
# OUTDIR/oci           an OCI image layout, one tag per image (skopeo: oci:OUTDIR/oci:TAG)
# OUTDIR/busybox.tar   a docker-archive of busybox:1, as `docker save` would give it
# OUTDIR/MANIFEST.txt  "TAG MEDIATYPE DIGEST" per image
#
# busybox-1  one layer: static busybox with a link for every applet, /etc/passwd and /etc/group
#            (root, nobody, app:1000), /tmp, /root, /home/app; CMD ["sh"]
# app-1      busybox-1 plus three layers: 300 generated text files under /srv/app/docs; 8 MiB of
#            incompressible bytes (/srv/app/data/blob.bin); a layer deleting docs/remove-me.txt
#            (a whiteout). ENV, LABEL, WORKDIR, USER, EXPOSE, ENTRYPOINT and CMD set
# multi-1    an OCI index: linux/amd64 -> busybox-1, linux/arm64/v8 -> app-1 (relabelled)
# big-1      (--big) busybox-1 plus three layers of about 300 MB of this machine's files, for benchmarks
set -euo pipefail
out=${1:?usage: make-images.sh OUTDIR [--big]}
big=${2:-}
for tool in buildah skopeo busybox; do
  command -v "$tool" >/dev/null || { echo "make-images: $tool is missing: apt-get install -y buildah skopeo busybox-static" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
trap 'bh rm --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export BUILDAH_ISOLATION=chroot
stamp=1700000000
commit() { bh commit --quiet --timestamp "$stamp" "$1" "$2" >/dev/null; }

# --- busybox-1 ---------------------------------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,home/app,var/www}
install -m 0755 "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $(busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
app:x:1000:
nogroup:x:65534:
EOF
install -d -m 1777 "$rootfs/tmp"
echo '<h1>berth</h1>' >"$rootfs/var/www/index.html"
find "$rootfs" -exec touch -h -d "@$stamp" {} +
ctr=$(bh from scratch)
bh add "$ctr" "$rootfs" / >/dev/null
bh config --cmd '["sh"]' --env PATH=/bin --created-by '/bin/sh -c #(nop) ADD dir:busybox in /' "$ctr"
commit "$ctr" busybox:1

# --- app-1: one commit per step, so each step is its own layer ----------------------------------
docs=$work/docs
mkdir -p "$docs/guide" "$docs/reference"
for i in $(seq -w 1 150); do
  printf 'Guide page %s\n%s\n' "$i" "$(seq -s ' ' 1 "$((10#$i * 7))")" >"$docs/guide/page-$i.txt"
  printf 'Reference %s: %s\n' "$i" "$(printf 'entry-%s ' $(seq 1 "$((10#$i % 40 + 1))"))" >"$docs/reference/ref-$i.txt"
done
echo 'this file is deleted by the layer above' >"$docs/remove-me.txt"
find "$docs" -exec touch -h -d "@$stamp" {} +
ctr=$(bh from busybox:1)
bh config --env APP_HOME=/srv/app --label org.opencontainers.image.title=app --label com.example.tier=test "$ctr"
bh add "$ctr" "$docs" /srv/app/docs >/dev/null
commit "$ctr" app-step:1
ctr=$(bh from app-step:1)
# AES-CTR of zeros with a fixed key: incompressible, and the same bytes on every run.
openssl enc -aes-256-ctr -nosalt -K "$(printf '%064x' 1)" -iv "$(printf '%032x' 0)" </dev/zero 2>/dev/null |
  head -c 8388608 >"$work/blob.bin" || true
touch -d "@$stamp" "$work/blob.bin"
bh add "$ctr" "$work/blob.bin" /srv/app/data/blob.bin >/dev/null
commit "$ctr" app-step:2
ctr=$(bh from app-step:2)
bh run "$ctr" -- rm /srv/app/docs/remove-me.txt
bh config --workingdir /srv/app --user nobody --port 8080/tcp --entrypoint '["/bin/sh","-c"]' "$ctr" 2>/dev/null
bh config --cmd '["echo hello from app"]' "$ctr"
commit "$ctr" app:1

# --- big-1 -------------------------------------------------------------------------------------
if [ "$big" = --big ]; then
  base=busybox:1
  n=0
  for dir in /usr/lib/gcc /usr/share/locale /usr/lib/python3*; do
    [ -d "$dir" ] || continue
    n=$((n + 1))
    ctr=$(bh from "$base")
    bh add "$ctr" "$dir" "/big$dir" >/dev/null
    commit "$ctr" "big-step:$n"
    base=big-step:$n
  done
  bh tag "$base" big:1
fi

# --- write out ---------------------------------------------------------------------------------
rm -rf "$out/oci" "$out/busybox.tar"
bh push --quiet busybox:1 "oci:$out/oci:busybox-1"
bh push --quiet app:1 "oci:$out/oci:app-1"
[ "$big" = --big ] && bh push --quiet big:1 "oci:$out/oci:big-1"
bh manifest create multi:1 >/dev/null
bh manifest add multi:1 busybox:1 >/dev/null
bh manifest add --arch arm64 --variant v8 multi:1 app:1 >/dev/null
bh manifest push --quiet --all multi:1 "oci:$out/oci:multi-1"
bh push --quiet busybox:1 "docker-archive:$out/busybox.tar:busybox:1"

: >"$out/MANIFEST.txt"
for tag in busybox-1 app-1 multi-1 big-1; do
  raw=$(skopeo inspect --raw "oci:$out/oci:$tag" 2>/dev/null) || continue
  media=$(printf '%s' "$raw" | grep -o '"mediaType":"[^"]*"' | head -n 1 | cut -d '"' -f 4)
  digest=sha256:$(printf '%s' "$raw" | sha256sum | cut -d ' ' -f 1)
  echo "$tag $media $digest" >>"$out/MANIFEST.txt"
done
cat "$out/MANIFEST.txt"
