#!/usr/bin/env bash
# `npm run prebuild:arm64`: cross-builds the linux-arm64 glibc prebuild with
# Debian's aarch64 toolchain and proves the result is an AArch64 ELF object.
# Builds in a copy of the sources, so build/Release (the host addon that
# everything else loads) is never replaced by an arm64 binary.
# PREBUILD_OUT: where prebuilds/linux-arm64/ goes (default: this checkout).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${PREBUILD_OUT:-$root}"
bash "$root/scripts/ensure-debian-packages.sh" g++-aarch64-linux-gnu binutils-aarch64-linux-gnu file

work="$(mktemp -d "${TMPDIR:-/tmp}/prebuild-arm64.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -a "$root/package.json" "$root/binding.gyp" "$root/native" "$work/"
ln -s "$root/node_modules" "$work/node_modules"

# node-gyp must use the headers next to this node, never download them
# (npm sets this from its config when run as an npm script).
if [ -z "${npm_config_nodedir:-}" ]; then
  npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
  export npm_config_nodedir
fi
[ -f "$npm_config_nodedir/include/node/common.gypi" ] \
  || { echo "no Node headers under $npm_config_nodedir/include/node; set npm_config_nodedir" >&2; exit 1; }

export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
(cd "$work" && "$root/node_modules/.bin/prebuildify" --napi --strip --tag-libc --arch arm64 \
  --strip-bin aarch64-linux-gnu-strip --out "$work/out" >"$work/build.log" 2>&1) \
  || { tail -30 "$work/build.log" >&2; exit 1; }

built=("$work"/out/prebuilds/linux-arm64/*.node)
[ -f "${built[0]}" ] || { echo "prebuildify produced no linux-arm64 .node file" >&2; exit 1; }
mkdir -p "$out/prebuilds/linux-arm64"
for artefact in "${built[@]}"; do
  # ELF header: class 2 (64-bit) at byte 4, data 1 (little-endian) at byte 5,
  # e_machine at bytes 18-19: 183 is EM_AARCH64 (62 would be x86-64).
  read -r class data <<<"$(od -An -tu1 -j4 -N2 "$artefact")"
  machine="$(od -An -tu2 --endian=little -j18 -N2 "$artefact" | tr -d ' ')"
  if [ "$class" != 2 ] || [ "$data" != 1 ] || [ "$machine" != 183 ]; then
    echo "$artefact is not a 64-bit little-endian AArch64 ELF object (class $class, data $data, e_machine $machine): $(file -b "$artefact")" >&2
    exit 1
  fi
  # Copied beside prebuilds/, then renamed into place: a test loading the
  # prebuild or packing the package meanwhile sees the old file or the new one.
  staging="$out/.$(basename "$artefact").$$"
  cp "$artefact" "$staging"
  mv "$staging" "$out/prebuilds/linux-arm64/$(basename "$artefact")"
  echo "prebuilds/linux-arm64/$(basename "$artefact"): $(file -b "$artefact")"
done
