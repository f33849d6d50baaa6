#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks run against: PostgreSQL 15, Redis,
# Mosquitto, tcpdump, tshark/mergecap/capinfos, OpenLDAP (slapd), Chromium, strace (the spool's
# durability test watches its fsync calls), and debootstrap + systemd-container (the packaging test
# boots a fresh Debian 12 with systemd-nspawn), nginx (the reverse-proxy example's test) and openssl (certificates in the TLS tests).
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in systemd postgresql redis-server mosquitto mosquitto-clients tcpdump tshark wireshark-common tcpreplay slapd ldap-utils chromium time strace debootstrap systemd-container nginx openssl; do
  have "$pkg" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && { echo "install-deps: all packages present"; exit 0; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; slapd asks for a domain. Answer both up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
echo "install-deps: installing ${need[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# The packages start system-wide daemons on the default ports; the tests run their own on other ports.
for svc in redis-server mosquitto slapd postgresql nginx; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
