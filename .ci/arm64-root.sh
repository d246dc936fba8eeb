#!/usr/bin/env bash
# Makes an arm64 Debian root with Python 3.11 for running arm64 bundles under qemu user emulation.
# Usage: .ci/arm64-root.sh [ROOT]   (default /var/cache/hatch-lambda-tests/arm64-root)
set -euo pipefail
root=${1:-${HATCH_LAMBDA_ARM64_ROOT:-/var/cache/hatch-lambda-tests/arm64-root}}
if [ -x "$root/usr/bin/python3.11" ]; then
  echo "arm64 root already at $root"
  exit 0
fi
rm -rf "$root.partial"
mkdir -p "$(dirname "$root")"
# debootstrap runs the root's arm64 programs while installing: that needs binfmt_misc + qemu.
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
update-binfmts --enable qemu-aarch64 2>/dev/null || true
debootstrap --arch=arm64 --variant=minbase --include=python3 bookworm "$root.partial" \
  http://deb.debian.org/debian
mv "$root.partial" "$root"
echo "arm64 root ready at $root"
