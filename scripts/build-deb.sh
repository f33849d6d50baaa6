#!/usr/bin/env bash
# Builds the Debian package of the collector from the committed tree (HEAD), away from the working
# copy (its dist/ and node_modules are left alone):
#
#   scripts/build-deb.sh [OUT_DIR]      → OUT_DIR (default ./dist-deb)/pcapmesh-collector_<version>_<arch>.deb
#
# Contents: /usr/lib/pcapmesh/ (root package files, shared/ and collector/ with bin/ and compiled
# dist/, sql/, production node_modules), /usr/bin/pcapmesh, /lib/systemd/system/pcapmesh-collector.service,
# /etc/pcapmesh/collector.yaml (conffile, from packaging/collector.example.yaml). postinst creates the
# `pcapmesh` system user; the service is not started before the operator configured it.
# Needs: git, node + npm (dependencies come from the npm cache or registry, exact versions from the
# lock file), dpkg-deb. See packaging/README.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/dist-deb}" && cd "${1:-$repo/dist-deb}" && pwd)
version=$(node -p "require('$repo/package.json').version")
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "build-deb: building pcapmesh-collector $version ($arch) from $(git -C "$repo" rev-parse --short HEAD)"
src="$work/src"
mkdir -p "$src"
git -C "$repo" archive HEAD | tar -x -C "$src"
# The explicit build below fails on a type error (npm ci's prepare build only warns), and builds only what the package holds.
export PCAPMESH_SKIP_PREPARE=1
(cd "$src" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npx tsc -b shared collector && node shared/scripts/bundle-cli.js && npm run build -w web)
# Production dependencies only (native modules included, built for this architecture).
(cd "$src" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)

pkg="$work/pkg"
app="$pkg/usr/lib/pcapmesh"
mkdir -p "$app" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/pcapmesh" "$pkg/DEBIAN" "$pkg/usr/share/doc/pcapmesh-collector"
cp "$src/package.json" "$src/package-lock.json" "$app/"
for ws in shared collector; do
  mkdir -p "$app/$ws"
  cp -r "$src/$ws/package.json" "$src/$ws/bin" "$src/$ws/dist" "$app/$ws/"
done
cp -r "$src/sql" "$app/sql"
# The dashboard build, where the collector looks by default (http.webRoot: <app>/web/dist).
mkdir -p "$app/web" && cp -r "$src/web/dist" "$app/web/dist"
# node_modules: workspace links point at ../shared and ../collector, which exist in the package;
# links to workspaces that are not shipped (agent, web) are dropped.
cp -a "$src/node_modules" "$app/node_modules"
rm -f "$app/node_modules/@pcapmesh/agent" "$app/node_modules/@pcapmesh/web"
ln -s ../lib/pcapmesh/collector/bin/pcapmesh.js "$pkg/usr/bin/pcapmesh"
install -m 0644 "$repo/packaging/pcapmesh-collector.service" "$pkg/lib/systemd/system/"
install -m 0640 "$repo/packaging/collector.example.yaml" "$pkg/etc/pcapmesh/collector.yaml"
install -m 0644 "$repo/packaging/README.md" "$pkg/usr/share/doc/pcapmesh-collector/README.md"

cat >"$pkg/DEBIAN/control" <<EOF
Package: pcapmesh-collector
Version: $version
Architecture: $arch
Maintainer: pcapmesh developers <pcapmesh@localhost>
Depends: nodejs (>= 20.19), adduser
Recommends: postgresql, redis-server
Suggests: mosquitto
Section: net
Priority: optional
Installed-Size: $(du -sk "$pkg" | cut -f1)
Description: pcapmesh collector: PCAP server and sensor fleet
 Central server of pcapmesh: HTTP API, embedded MQTT broker (or a client of an
 external one), ingest of sensor state, health and PCAP availability, storage
 in PostgreSQL or an embedded PGlite database.
EOF
echo /etc/pcapmesh/collector.yaml >"$pkg/DEBIAN/conffiles"
cat >"$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent passwd pcapmesh >/dev/null || adduser --system --group --home /var/lib/pcapmesh --no-create-home pcapmesh
  install -d -m 0750 -o pcapmesh -g pcapmesh /var/lib/pcapmesh
  chgrp pcapmesh /etc/pcapmesh /etc/pcapmesh/collector.yaml
  chmod 0750 /etc/pcapmesh
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
  echo "pcapmesh-collector: edit /etc/pcapmesh/collector.yaml, then: systemctl enable --now pcapmesh-collector"
fi
EOF
cat >"$pkg/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
EOF
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"

deb="$out/pcapmesh-collector_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$pkg" "$deb" >/dev/null
echo "build-deb: wrote $deb ($(du -h "$deb" | cut -f1))"
