#!/usr/bin/env bash
# Builds the two Debian packages (packaging/README.md says what they hold and why):
#
#   scripts/build-deb.sh [--out DIR] [--version V] [--worktree] [--fast]
#     → DIR (default ./dist-deb)/pcapmesh-collector_<V>_<arch>.deb and pcapmesh-agent_<V>_<arch>.deb
#
#   --version V   Debian version (default: package.json's version). The programs report package.json's.
#                 Repeatable: the same staged files packaged once per version (the packaging test's
#                 upgrade uses a second version).
#   --worktree    package this checkout's build output (`npm run build` must have run) instead of
#                 building HEAD in a temporary copy; the packaging test uses it (test/packaging/).
#   --fast        zstd -3 instead of xz -6: ~40 % bigger, built in seconds instead of minutes (tests).
# Env: PCAPMESH_DEB_DEPS_CACHE=DIR keeps each package's production node_modules there, keyed by the
#      lock file, the workspaces and the node version, so a second build skips `npm ci`.
#
# Default: the committed tree (HEAD) is exported with `git archive`, `npm ci` and built there, so the
# working copy (its dist/, node_modules and uncommitted edits) is left out and alone.
# Each package gets: the built workspaces it runs (no sources, tests or type declarations), its own
# production node_modules (`npm ci --omit=dev` for its workspaces only, exact versions from the lock
# file), and this machine's node binary (stripped), checked to need only Debian 12 libraries.
# Needs: git, node + npm, dpkg-deb, binutils (strip, objdump), ldd.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/dist-deb"
versions=()
worktree=0
compress=(-Zxz -z6)
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --version) versions+=("${2:?--version needs a value}"); shift 2 ;;
    --worktree) worktree=1; shift ;;
    --fast) compress=(-Zzstd -z3); shift ;;
    *) echo "build-deb: unknown argument $1 (usage: $0 [--out DIR] [--version V] [--worktree] [--fast])" >&2; exit 2 ;;
  esac
done
mkdir -p "$out" && out=$(cd "$out" && pwd)
[ ${#versions[@]} -gt 0 ] || versions=("$(node -p "require('$repo/package.json').version")")
for version in "${versions[@]}"; do
  if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
    echo "build-deb: --version $version is not a Debian version (digits first, then letters, digits, . + ~ -)" >&2
    exit 2
  fi
done
arch=$(dpkg --print-architecture)
node_bin=$(command -v node)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm_quiet=(--no-audit --no-fund --loglevel=error)
export PCAPMESH_SKIP_PREPARE=1

# ---- 1. a built tree: HEAD built in a copy, or this checkout as built
if [ "$worktree" = 1 ]; then
  src=$repo
  for f in shared/dist/cli/pcap.js shared/dist/bundle/pcapmesh-pcap.js collector/dist/cli/main.js agent/dist/main.js web/dist/index.html; do
    [ -e "$src/$f" ] || { echo "build-deb: --worktree: $f is missing: run npm run build first" >&2; exit 1; }
  done
  echo "build-deb: packaging the working tree's build as ${versions[*]} ($arch)"
else
  src="$work/src"
  mkdir -p "$src"
  echo "build-deb: building ${versions[*]} ($arch) from $(git -C "$repo" rev-parse --short HEAD)"
  git -C "$repo" archive HEAD | tar -x -C "$src"
  # The explicit build fails on a type error (npm ci's prepare build only warns).
  (cd "$src" && npm ci --prefer-offline "${npm_quiet[@]}" && npx tsc -b shared agent collector && node shared/scripts/bundle-cli.js && npm run build -w web)
fi

# ---- 2. the runtime: Debian 12 ships nodejs 18, the programs need >= 20.19 (packaging/README.md)
node_version=$("$node_bin" -p 'process.versions.node')
node -e 'const [a,b]=process.argv[1].split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' "$node_version" ||
  { echo "build-deb: $node_bin is node $node_version; the packages need >= 20.19" >&2; exit 1; }
cp "$node_bin" "$work/node" && strip --strip-debug "$work/node"

# Shared libraries a binary needs, as Debian packages; fails on a library no Debian package provides
# or one outside the short list Debian 12's base system has (libc6, libstdc++6, libgcc-s1).
lib_packages() {
  local bin=$1 lib path pkg
  while read -r lib path; do
    [ -n "$path" ] || continue
    [ "$path" != "(not-found)" ] || { echo "build-deb: $bin needs $lib, which is not installed here" >&2; return 1; }
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    case "$pkg" in
      libc6 | libstdc++6 | libgcc-s1) echo "$pkg" ;;
      *) echo "build-deb: $bin needs $lib ($path) from '${pkg:-no Debian package}', not in Debian 12's base (libc6, libstdc++6, libgcc-s1)" >&2; return 1 ;;
    esac
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3} $2 == "=>" && $3 == "not" {print $1, "(not-found)"} $1 ~ /^\// {print $1, $1}')
}
glibc_needed() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1; }

# ---- 3. one package
# build_package NAME WORKSPACES... : stages /usr/lib/pcapmesh/<NAME> and the files around it.
build_package() {
  local name=$1; shift
  local short=${name#pcapmesh-}
  local pkg="$work/pkg-$short" app_rel="usr/lib/pcapmesh/$short"
  local app="$pkg/$app_rel"
  mkdir -p "$app/runtime" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/DEBIAN" "$pkg/usr/share/doc/$name"

  # Production dependencies of these workspaces only: npm ci needs every workspace's package.json
  # to match the lock file, but installs only the ones named.
  local deps="$work/deps-$short" ws key
  local wflags=()
  for ws in "$@"; do wflags+=(-w "@pcapmesh/$ws"); done
  key=$(cat "$src/package-lock.json" "$src"/{shared,agent,collector,web}/package.json <(echo "$* $node_version") | sha256sum | cut -c1-16)
  if [ -n "${PCAPMESH_DEB_DEPS_CACHE:-}" ] && [ -d "$PCAPMESH_DEB_DEPS_CACHE/$short-$key/node_modules" ]; then
    deps="$PCAPMESH_DEB_DEPS_CACHE/$short-$key"
  else
    mkdir -p "$deps"
    cp "$src/package.json" "$src/package-lock.json" "$deps/"
    for ws in shared agent collector web; do mkdir -p "$deps/$ws" && cp "$src/$ws/package.json" "$deps/$ws/"; done
    (cd "$deps" && npm ci --omit=dev --ignore-scripts --prefer-offline "${npm_quiet[@]}" "${wflags[@]}")
    if [ -n "${PCAPMESH_DEB_DEPS_CACHE:-}" ]; then
      mkdir -p "$PCAPMESH_DEB_DEPS_CACHE"
      rm -rf "$PCAPMESH_DEB_DEPS_CACHE/$short-$key.tmp" && cp -a "$deps" "$PCAPMESH_DEB_DEPS_CACHE/$short-$key.tmp"
      mv -T "$PCAPMESH_DEB_DEPS_CACHE/$short-$key.tmp" "$PCAPMESH_DEB_DEPS_CACHE/$short-$key" 2>/dev/null || rm -rf "$PCAPMESH_DEB_DEPS_CACHE/$short-$key.tmp"
    fi
  fi
  cp "$src/package.json" "$app/"
  cp -a "$deps/node_modules" "$app/node_modules"
  # Workspace links for workspaces this package does not hold would dangle.
  for ws in shared agent collector web; do
    [[ " $* " == *" $ws "* ]] || rm -f "$app/node_modules/@pcapmesh/$ws"
  done
  for ws in "$@"; do
    mkdir -p "$app/$ws"
    cp -r "$src/$ws/package.json" "$src/$ws/bin" "$src/$ws/dist" "$app/$ws/"
  done
  # Native modules built for musl (Alpine) never load on Debian.
  find "$app/node_modules" -type f -name '*musl*.node' -delete
  # Compiled tests, declarations, source maps and build info are not run in production.
  find "$app" -path "$app/node_modules" -prune -o -type f \( -name '*.test.js' -o -name '*.d.ts' -o -name '*.map' -o -name '*.tsbuildinfo' \) -print0 | xargs -0 rm -f
  install -m 0755 "$work/node" "$app/runtime/node"

  # Every ELF file shipped (the runtime, native modules) must load on Debian 12.
  local depends="adduser" elf glibc max_glibc="2.0" libs="$work/libs-$short"
  : >"$libs"
  while IFS= read -r -d '' elf; do
    if [ "$(head -c 4 "$elf" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
      lib_packages "$elf" >>"$libs" || exit 1
      glibc=$(glibc_needed "$elf")
      [ -n "$glibc" ] && max_glibc=$(printf '%s\n%s\n' "$max_glibc" "$glibc" | sort -V | tail -1)
    fi
  done < <(find "$app" -type f \( -name '*.node' -o -path "$app/runtime/node" \) -print0)
  if [ "$(printf '%s\n2.36\n' "$max_glibc" | sort -V | tail -1)" != 2.36 ]; then
    echo "build-deb: $name needs glibc $max_glibc; Debian 12 has 2.36" >&2
    exit 1
  fi
  local lib
  for lib in $(sort -u "$libs"); do
    if [ "$lib" = libc6 ]; then depends+=", libc6 (>= $max_glibc)"; else depends+=", $lib"; fi
  done

  install -m 0644 "$repo/packaging/$name.service" "$pkg/lib/systemd/system/"
  # The example the postinst copies to /etc/pcapmesh when there is no configuration yet.
  install -m 0644 "$repo/packaging/$short.example.yaml" "$app/$short.example.yaml"
  install -m 0644 "$repo/packaging/README.md" "$pkg/usr/share/doc/$name/README.md"
  install -m 0755 "$repo/packaging/debian/$short.postinst" "$pkg/DEBIAN/postinst"
  install -m 0755 "$repo/packaging/debian/$short.postrm" "$pkg/DEBIAN/postrm"
  install -m 0755 "$repo/packaging/debian/$short.prerm" "$pkg/DEBIAN/prerm"
  echo "build-deb: $name: node $node_version, libraries: ${depends#adduser, }"
  printf '%s\n' "$depends" >"$work/depends-$short"
}

# Commands on PATH: wrappers that run the program with the packaged runtime.
wrapper() { # wrapper FILE APP_DIR SCRIPT
  printf '#!/bin/sh\n# Installed by the pcapmesh packages: runs %s with the packaged node runtime.\nexec %s/runtime/node %s/%s "$@"\n' "$3" "$2" "$2" "$3" >"$1"
  chmod 0755 "$1"
}

control() { # control NAME DEPENDS RECOMMENDS SUMMARY DESCRIPTION
  local pkg=$work/pkg-${1#pcapmesh-} version deb size
  size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
  for version in "${versions[@]}"; do
    cat >"$pkg/DEBIAN/control" <<EOF
Package: $1
Version: $version
Architecture: $arch
Maintainer: pcapmesh developers <pcapmesh@localhost>
Depends: $2
Recommends: $3
Section: net
Priority: optional
Installed-Size: $size
Description: $4
$5
EOF
    deb="$out/${1}_${version}_${arch}.deb"
    dpkg-deb --root-owner-group "${compress[@]}" --build "$pkg" "$deb" >/dev/null
    echo "build-deb: wrote $deb ($(du -h "$deb" | cut -f1), installed $((size / 1024)) MiB)"
  done
}

build_package pcapmesh-collector shared collector
app=$work/pkg-collector/usr/lib/pcapmesh/collector
cp -r "$src/sql" "$app/sql"
# The dashboard, where the collector looks by default (http.webRoot: <app>/web/dist).
mkdir -p "$app/web" && cp -r "$src/web/dist" "$app/web/dist"
find "$app/web/dist" -name '*.map' -delete
wrapper "$work/pkg-collector/usr/bin/pcapmesh" /usr/lib/pcapmesh/collector collector/bin/pcapmesh.js
control pcapmesh-collector "$(cat "$work/depends-collector")" "postgresql-client, openssl" "pcapmesh collector: PCAP server and sensor fleet" \
  " Central server of pcapmesh: HTTP API and dashboard, embedded MQTT broker (or a
 client of an external one), ingest of sensor state, health and PCAP
 availability, capture jobs; PostgreSQL or an embedded PGlite database.
 Brings its own Node.js runtime (Debian 12's nodejs is too old)."

build_package pcapmesh-agent shared agent
wrapper "$work/pkg-agent/usr/bin/pcapmesh-agent" /usr/lib/pcapmesh/agent agent/bin/pcapmesh-agent.js
wrapper "$work/pkg-agent/usr/bin/pcapmesh-pcap" /usr/lib/pcapmesh/agent shared/bin/pcapmesh-pcap.js
control pcapmesh-agent "$(cat "$work/depends-agent")" "tcpdump" "pcapmesh sensor agent: capture ring, health and availability" \
  " Runs on each sensor: tcpdump capture rings or watched capture directories,
 health and PCAP availability reported over MQTT to the pcapmesh collector,
 extracts for capture jobs. Also installs pcapmesh-pcap.
 Brings its own Node.js runtime (Debian 12's nodejs is too old)."
