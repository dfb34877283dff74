# Shared by scripts/run, scripts/test, scripts/pg and bench scripts.
# shellcheck shell=bash

KASSA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '\033[1m[kassa]\033[0m %s\n' "$*" >&2; }
die() { printf '[kassa] error: %s\n' "$*" >&2; exit 1; }

# Debian packages the build, the tests and the benchmarks need.
KASSA_PACKAGES=(
  build-essential cmake ccache pkg-config
  libcaf-dev libboost-dev libboost-system-dev libssl-dev
  nlohmann-json3-dev libpq-dev postgresql catch2
  curl procps openssl libjemalloc-dev
)

# Installs what is missing (and only that) with apt.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null || die "apt-get update failed"
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# Configures and builds a CMake preset (default: "default") with -j2.
build_preset() {
  local preset=${1:-default}
  log "building ($preset)"
  (cd "$KASSA_ROOT" && cmake --preset "$preset" >/dev/null \
    && cmake --build --preset "$preset" -j2) || die "build failed ($preset)"
}
