#!/usr/bin/env bash
# A bare Debian 12 (bookworm) machine in a folder, as a school's IT technician would start from:
# `debootstrap --variant=minbase` with only python3, python3-venv, make, git and ca-certificates.
#
#   bare_debian.sh new ROOT         lay a fresh root in ROOT and clone this project's committed HEAD
#                                   into ROOT/home/newcomer/casebook
#   bare_debian.sh run ROOT 'CMD'   run CMD as root inside it, in the clone, with a clean environment
#   bare_debian.sh remove ROOT      unmount and delete it
#
# Needs root and debootstrap. The debootstrap result is built once per machine and kept as a tarball
# in $CASEBOOK_BARE_ROOT_CACHE (default /var/cache/conduct-casebook); every `new` lays a fresh copy
# of it. Downloaded .deb and wheel files are kept there too, so a second run does not fetch them
# again; they are the same files a newcomer would download.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PROJECT="$(git -C "$HERE" rev-parse --show-toplevel)"
CACHE="${CASEBOOK_BARE_ROOT_CACHE:-/var/cache/conduct-casebook}"
PRISTINE="$CACHE/bookworm-minbase.tar"
PACKAGES=python3,python3-venv,make,git,ca-certificates

mounts() { # the mount points under ROOT, deepest first
  awk -v root="$1/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r
}

unmount_all() {
  local point
  for point in $(mounts "$1"); do umount -l "$point" || true; done
}

remove_root() { # never delete through a mount (/dev, the caches)
  unmount_all "$1"
  if [ -n "$(mounts "$1")" ]; then echo "still mounted under $1; not removing it" >&2; return 1; fi
  rm -rf --one-file-system "$1"
}

build_pristine() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/build.lock"
  flock 9
  [ -s "$PRISTINE" ] && return 0
  local mirror build
  mirror="$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  build="$(mktemp -d "$CACHE/build.XXXXXX")"
  echo "Building a minimal bookworm root (once per machine; log in $CACHE/debootstrap.log)"
  if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$build" "$mirror" \
    >"$CACHE/debootstrap.log" 2>&1; then
    tail -20 "$CACHE/debootstrap.log" >&2
    remove_root "$build"
    return 1
  fi
  # The same package sources, name resolution and registry settings (CA bundle, pip.conf) as this
  # machine, so the root reaches what this machine reaches; nothing else of the host goes in.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$build/etc/apt/sources.list.d/"
    rm -f "$build/etc/apt/sources.list"
  fi
  cp /etc/resolv.conf "$build/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$build/etc/ssl/certs/ca-certificates.crt"
  if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$build/etc/pip.conf"; fi
  unmount_all "$build"
  chmod 0755 "$build" # mktemp made it 0700; as the root folder, everyone must pass through it
  tar -C "$build" -cf "$PRISTINE.partial" .
  mv "$PRISTINE.partial" "$PRISTINE"
  remove_root "$build"
}

new_root() {
  local root="$1" head
  build_pristine
  remove_root "$root"; mkdir -p "$root"
  tar -C "$root" -xf "$PRISTINE"
  chmod 0755 "$root"
  head="$(git -C "$PROJECT" rev-parse HEAD)"
  mkdir -p "$root/home/newcomer"
  git clone -q --no-checkout "$PROJECT" "$root/home/newcomer/casebook"
  git -C "$root/home/newcomer/casebook" checkout -q --detach "$head"
  echo "Cloned $(git -C "$root/home/newcomer/casebook" log -1 --format='%h %s') into $root"
}

run_in_root() {
  local root="$1" command="$2"
  [ -d "$root/home/newcomer/casebook" ] || { echo "no root at $root; run: $0 new $root" >&2; return 2; }
  mkdir -p "$CACHE/pip" "$CACHE/apt-archives/partial" "$root/root/.cache/pip"
  IN_USE="$root"
  trap 'unmount_all "$IN_USE"' EXIT
  # Every mount is made private at once, so nothing mounted or unmounted in the root can
  # reach the host's own /dev (on a machine whose mounts are shared, as under systemd).
  bind_private() { mountpoint -q "$2" || { mount --bind "$1" "$2" && mount --make-private "$2"; }; }
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc" && mount --make-private "$root/proc"; }
  if ! mountpoint -q "$root/dev"; then
    bind_private /dev "$root/dev"
    mount -t tmpfs -o mode=1777,size=1g shm "$root/dev/shm" # PostgreSQL's shared memory
  fi
  bind_private "$CACHE/pip" "$root/root/.cache/pip"
  bind_private "$CACHE/apt-archives" "$root/var/cache/apt/archives"
  chroot "$root" chown _apt /var/cache/apt/archives/partial 2>/dev/null || true # apt downloads as _apt
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${CI:+CI=$CI} \
    /bin/bash -lc "cd /home/newcomer/casebook || exit 2; $command" # `;`: CMD may end in `&`
}

case "${1:-}" in
  new) new_root "$2" ;;
  run) run_in_root "$2" "$3" ;;
  remove) remove_root "$2" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
