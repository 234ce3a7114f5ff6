#!/bin/sh
# Installs dstream's single binary for this machine from a GitHub release, verified against SHA256SUMS.
#
#   curl -fsSL https://github.com/dstream-dev/dstream/releases/latest/download/install.sh | sh
#   sh install.sh --version v0.1.0 --prefix /usr/local     # installs /usr/local/bin/dstream
#
# Options (or environment variables):
#   --version TAG   DSTREAM_VERSION       release tag, e.g. v0.1.0 (default: latest)
#   --prefix DIR    DSTREAM_PREFIX        installs DIR/bin/dstream (default: ~/.local)
#   DSTREAM_REPO                          GitHub repository owner/name (default: dstream-dev/dstream)
#   DSTREAM_GITHUB_URL                    GitHub's address (default: https://github.com), for mirrors and tests
# Exit codes: 0 installed, 1 download or verification failed, 2 bad option or unsupported machine.
set -eu

repo=${DSTREAM_REPO:-dstream-dev/dstream}
github=${DSTREAM_GITHUB_URL:-https://github.com}
version=${DSTREAM_VERSION:-latest}
prefix=${DSTREAM_PREFIX:-${HOME}/.local}

fail() {
  code=$1
  shift
  echo "error: $*" >&2
  exit "$code"
}

while [ $# -gt 0 ]; do
  case $1 in
    --version) [ $# -ge 2 ] || fail 2 "--version needs a value, e.g. --version v0.1.0"; version=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || fail 2 "--prefix needs a folder, e.g. --prefix /usr/local"; prefix=$2; shift 2 ;;
    -h | --help) echo "usage: install.sh [--version TAG] [--prefix DIR]   (installs DIR/bin/dstream; default ~/.local)"; exit 0 ;;
    *) fail 2 "unknown option $1 (use --version TAG, --prefix DIR)" ;;
  esac
done

is_musl() {
  if ldd --version 2>&1 | grep -qi musl; then return 0; fi
  # No ldd to ask: a glibc loader means glibc, even when musl is installed beside it.
  for loader in /lib64/ld-linux-*.so.2 /lib/ld-linux-*.so.*; do
    [ -e "$loader" ] && return 1
  done
  for loader in /lib/ld-musl-*.so.1; do
    [ -e "$loader" ] && return 0
  done
  return 1
}

detect_asset() {
  os=$(uname -s)
  arch=$(uname -m)
  case $arch in
    x86_64 | amd64) cpu=x64 ;;
    aarch64 | arm64) cpu=arm64 ;;
    *) fail 2 "dstream has no binary for $os $arch (it ships x86_64 and arm64)" ;;
  esac
  case $os in
    Linux)
      if is_musl; then
        [ "$cpu" = x64 ] || fail 2 "dstream has no binary for musl on $arch (only x86_64)"
        echo "dstream-linux-x64-musl"
      else
        echo "dstream-linux-$cpu"
      fi
      ;;
    Darwin)
      # An x86_64 shell under Rosetta on Apple silicon still gets the native arm64 binary.
      if [ "$cpu" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
        cpu=arm64
      fi
      echo "dstream-darwin-$cpu"
      ;;
    MINGW* | MSYS* | CYGWIN*)
      [ "$cpu" = x64 ] || fail 2 "dstream has no binary for Windows on $arch (only x86_64)"
      echo "dstream-windows-x64.exe"
      ;;
    *) fail 2 "dstream has no binary for $os (it ships Linux, macOS and Windows)" ;;
  esac
}

download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1" || fail 1 "download failed: $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || fail 1 "download failed: $1"
  else
    fail 1 "neither curl nor wget is installed; install one of them and retry"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail 1 "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

asset=$(detect_asset)
if [ "$version" = latest ]; then
  base_url="${github%/}/$repo/releases/latest/download"
else
  base_url="${github%/}/$repo/releases/download/$version"
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t dstream)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "downloading $base_url/$asset" >&2
download "$base_url/SHA256SUMS" "$tmp/SHA256SUMS"
download "$base_url/$asset" "$tmp/$asset"

expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || fail 1 "SHA256SUMS at $base_url lists no $asset"
actual=$(sha256_of "$tmp/$asset")
[ "$expected" = "$actual" ] || fail 1 "checksum mismatch for $asset: expected $expected, got $actual"

case $asset in
  *.exe) target_name=dstream.exe ;;
  *) target_name=dstream ;;
esac
bin_dir="$prefix/bin"
mkdir -p "$bin_dir" || fail 1 "cannot create $bin_dir"
chmod 755 "$tmp/$asset"
mv -f "$tmp/$asset" "$bin_dir/$target_name" || fail 1 "cannot write $bin_dir/$target_name"
echo "installed $bin_dir/$target_name ($asset, sha256 $actual)" >&2

case ":${PATH}:" in
  *":$bin_dir:"*) ;;
  *) echo "note: $bin_dir is not on your PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\"" >&2 ;;
esac
