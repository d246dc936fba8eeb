#!/usr/bin/env bash
# Builds the container image the container-mode tests run: a Debian root made with debootstrap
# (python3, pip, a C compiler), imported into Podman as localhost/hatch-lambda-test:ARCH.
# The SAM build images cannot be pulled on the CI machines, so the tests pass this one as `image`.
# Usage: .ci/test-image.sh [x86_64|arm64]
set -euo pipefail
arch=${1:-x86_64}
case "$arch" in
  x86_64) deb=amd64 ;;
  arm64) deb=arm64 ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
tag="localhost/hatch-lambda-test:$arch"
conf=${CONTAINERS_CONF:-/etc/containers/hatch-lambda-tests.conf}
export CONTAINERS_CONF=$conf
if podman image exists "$tag" 2>/dev/null; then
  echo "$tag already present"
  exit 0
fi
root=${HATCH_LAMBDA_IMAGE_ROOT:-/var/cache/hatch-lambda-tests/image-root-$arch}
if [ ! -x "$root/usr/bin/python3" ]; then
  rm -rf "$root.partial"
  mkdir -p "$(dirname "$root")"
  debootstrap --arch="$deb" --variant=minbase \
    --include=python3,python3-pip,python3-venv,python3-dev,gcc,libc6-dev \
    bookworm "$root.partial" http://deb.debian.org/debian
  mv "$root.partial" "$root"
fi
tar -C "$root" -c . | podman import --arch "$deb" - "$tag"
echo "$tag ready"
