#!/usr/bin/env bash
# Test services on loopback ports of their own, with their data under .tmp/services/ (gitignored):
#
#   scripts/services.sh start    start PostgreSQL 15, Redis, Mosquitto 2 and slapd where not already running
#   scripts/services.sh stop     stop them (data is kept; `clean` also removes it)
#   scripts/services.sh status   exit 0 when all four answer, 1 otherwise (prints which do not)
#   scripts/services.sh env      print `export …` lines for the tests:  eval "$(scripts/services.sh env)"
#   scripts/services.sh clean    stop and delete the data directory
#
# Idempotent and quick when everything already runs. Works as root on a fresh Debian 12 after
# scripts/install-deps.sh (PostgreSQL refuses to run as root: it runs as the `postgres` user) and as
# an ordinary user who has the packages installed.
#
# Ports (override with env): PCAPMESH_PG_PORT=55432, PCAPMESH_REDIS_PORT=56379, PCAPMESH_MQTT_PORT=51883,
# PCAPMESH_LDAP_PORT=50389.
# Data: PCAPMESH_SERVICES_DIR (default <repo>/.tmp/services).
#
# PostgreSQL: trust authentication on 127.0.0.1, database `pcapmesh` owned by role `pcapmesh` (CREATEDB, so
# tests can create a database each). Mosquitto: password_file + acl_file; account `pcapmesh-collector` reads
# sensors/# and writes commands/# and events/#; every other account is a sensor named by its user name and
# may write only sensors/<name>/# and read only commands/<name>/#. Tests add sensor accounts with
# `mosquitto_passwd -b "$PCAPMESH_TEST_MQTT_PASSWORD_FILE" NAME SECRET` and reload with
# `kill -HUP "$(cat "$PCAPMESH_TEST_MQTT_PID_FILE")"`.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${PCAPMESH_SERVICES_DIR:-$repo/.tmp/services}
pg_port=${PCAPMESH_PG_PORT:-55432}
redis_port=${PCAPMESH_REDIS_PORT:-56379}
mqtt_port=${PCAPMESH_MQTT_PORT:-51883}
collector_user=pcapmesh-collector
events_user=pcapmesh-events

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: install it with scripts/install-deps.sh ($2)"; }

# ---------------------------------------------------------------- PostgreSQL
pg_bin() {
  local v
  for v in 15 16 17 18; do
    [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] && { echo "/usr/lib/postgresql/$v/bin"; return; }
  done
  die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt package postgresql)"
}

# PostgreSQL refuses to run as root; as root we run it as `postgres`, as anyone else as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The data directory must be reachable by the postgres user. A checkout under /root is not: fall back to /tmp.
pg_data() {
  local recorded="$dir/postgres.path"
  if [ -f "$recorded" ]; then cat "$recorded"; return; fi
  local candidate="$dir/postgres"
  mkdir -p "$candidate"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$candidate"
    if ! runuser -u postgres -- test -w "$candidate"; then
      rmdir "$candidate"
      candidate="/tmp/pcapmesh-services-postgres-$pg_port"
      mkdir -p "$candidate" && chown postgres: "$candidate"
    fi
  fi
  chmod 700 "$candidate"
  echo "$candidate" >"$recorded"
  echo "$candidate"
}

pg_running() {
  local bin; bin=$(pg_bin)
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 1
}

pg_start() {
  if pg_running; then log "postgres already running on 127.0.0.1:$pg_port"; return; fi
  local bin data; bin=$(pg_bin); data=$(pg_data)
  if [ ! -f "$data/PG_VERSION" ]; then
    log "postgres: initdb in $data"
    as_pg "$bin/initdb" -D "$data" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/postgres-initdb.log" 2>&1 \
      || { cat "$dir/postgres-initdb.log" >&2; die "initdb failed"; }
  fi
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$data' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
    || { tail -n 30 "$data/server.log" >&2; die "postgres did not start (log: $data/server.log)"; }
  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres)
  if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'pcapmesh'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE pcapmesh LOGIN CREATEDB PASSWORD 'pcapmesh'"
  fi
  # Tests drop their databases WITH (FORCE); an autovacuum worker in one has no role of its own,
  # and only pg_signal_backend may end it (otherwise: "must be a member of the role whose process
  # is being terminated").
  "${psql[@]}" -c "GRANT pg_signal_backend TO pcapmesh" 2>/dev/null
  if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'pcapmesh'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE pcapmesh OWNER pcapmesh"
  fi
  log "postgres started on 127.0.0.1:$pg_port (data $data)"
}

pg_stop() {
  local bin data; bin=$(pg_bin)
  [ -f "$dir/postgres.path" ] || return 0
  data=$(cat "$dir/postgres.path")
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "postgres stopped"
  fi
}

# ---------------------------------------------------------------- Redis
redis_running() { redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; }

redis_start() {
  need redis-server redis-server
  if redis_running; then log "redis already running on 127.0.0.1:$redis_port"; return; fi
  mkdir -p "$dir/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --dir "$dir/redis" \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save '' --appendonly no
  local i
  for i in $(seq 50); do redis_running && { log "redis started on 127.0.0.1:$redis_port"; return; }; sleep 0.1; done
  tail -n 20 "$dir/redis/redis.log" >&2
  die "redis did not answer on 127.0.0.1:$redis_port"
}

redis_stop() {
  redis_running || return 0
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  log "redis stopped"
}

# ---------------------------------------------------------------- Mosquitto
mq="$dir/mosquitto"

mqtt_running() {
  [ -f "$mq/mosquitto.pid" ] && kill -0 "$(cat "$mq/mosquitto.pid")" 2>/dev/null \
    && (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null
}

mqtt_write_config() {
  mkdir -p "$mq"
  chmod 700 "$mq"
  [ -s "$mq/collector.secret" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$mq/collector.secret")
  [ -s "$mq/events.secret" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$mq/events.secret")
  if [ ! -f "$mq/passwd" ]; then
    (umask 077; : >"$mq/passwd")
    mosquitto_passwd -b "$mq/passwd" "$collector_user" "$(cat "$mq/collector.secret")"
    mosquitto_passwd -b "$mq/passwd" "$events_user" "$(cat "$mq/events.secret")"
  fi
  cat >"$mq/acl" <<EOF
# The collector: reads everything sensors publish, sends commands and integration events.
user $collector_user
topic read pcapmesh/v1/sensors/#
topic write pcapmesh/v1/commands/#
topic write pcapmesh/v1/events/#

# Integrations: read-only on the events tree.
user $events_user
topic read pcapmesh/v1/events/#

# Every account is also a sensor named by its user name: it may publish only about itself and read
# only its own commands.
pattern write pcapmesh/v1/sensors/%u/#
pattern read pcapmesh/v1/commands/%u/#
EOF
  # `user root`: run as the invoking root user so tests (root) can rewrite the password file and SIGHUP.
  local run_as=""
  [ "$(id -u)" -eq 0 ] && run_as="user root"
  cat >"$mq/mosquitto.conf" <<EOF
# Generated by scripts/services.sh
per_listener_settings false
allow_anonymous false
password_file $mq/passwd
acl_file $mq/acl
listener $mqtt_port 127.0.0.1
protocol mqtt
persistence false
pid_file $mq/mosquitto.pid
log_dest file $mq/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
max_inflight_messages 1000
max_queued_messages 100000
$run_as
EOF
}

mqtt_start() {
  need mosquitto mosquitto
  need mosquitto_passwd mosquitto-clients
  if mqtt_running; then log "mosquitto already running on 127.0.0.1:$mqtt_port"; return; fi
  mqtt_write_config
  rm -f "$mq/mosquitto.pid"
  mosquitto -c "$mq/mosquitto.conf" -d
  local i
  for i in $(seq 50); do mqtt_running && { log "mosquitto started on 127.0.0.1:$mqtt_port"; return; }; sleep 0.1; done
  tail -n 20 "$mq/mosquitto.log" >&2 || true
  die "mosquitto did not start on 127.0.0.1:$mqtt_port"
}

mqtt_stop() {
  [ -f "$mq/mosquitto.pid" ] || return 0
  local pid; pid=$(cat "$mq/mosquitto.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local i
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "mosquitto stopped"
  fi
  rm -f "$mq/mosquitto.pid"
}

# ---------------------------------------------------------------- LDAP (OpenLDAP slapd; users engineer)
# A test directory dc=pcapmesh,dc=test on 127.0.0.1:$ldap_port (PCAPMESH_LDAP_PORT, default 50389):
# users alice (group analysts), bob (group admins), carol (no group) under ou=people, each with the
# password "<name>-password"; groups are groupOfNames under ou=groups. Rebuilt on every start.
ldap_port=${PCAPMESH_LDAP_PORT:-50389}
ld="$dir/ldap"
ldap_running() { [ -f "$ld/slapd.pid" ] && kill -0 "$(cat "$ld/slapd.pid")" 2>/dev/null; }

ldap_start() {
  local slapd=/usr/sbin/slapd slapadd=/usr/sbin/slapadd
  [ -x "$slapd" ] || die "slapd not found: install it with scripts/install-deps.sh (slapd)"
  if ldap_running; then log "slapd already running on 127.0.0.1:$ldap_port"; return; fi
  rm -rf "$ld"; mkdir -p "$ld/db"
  printf '%s\n' 'include /etc/ldap/schema/core.schema' 'include /etc/ldap/schema/cosine.schema' \
    'include /etc/ldap/schema/inetorgperson.schema' 'modulepath /usr/lib/ldap' 'moduleload back_mdb' \
    "pidfile $ld/slapd.pid" 'database mdb' 'maxsize 10485760' 'suffix "dc=pcapmesh,dc=test"' \
    'rootdn "cn=admin,dc=pcapmesh,dc=test"' 'rootpw admin-password' "directory $ld/db" >"$ld/slapd.conf"
  {
    printf 'dn: dc=pcapmesh,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: pcapmesh\ndc: pcapmesh\n\n'
    printf 'dn: ou=people,dc=pcapmesh,dc=test\nobjectClass: organizationalUnit\nou: people\n\n'
    printf 'dn: ou=groups,dc=pcapmesh,dc=test\nobjectClass: organizationalUnit\nou: groups\n\n'
    local u
    for u in alice bob carol; do
      printf 'dn: uid=%s,ou=people,dc=pcapmesh,dc=test\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: %s-password\n\n' "$u" "$u" "$u" "$u" "$u"
    done
    printf 'dn: cn=analysts,ou=groups,dc=pcapmesh,dc=test\nobjectClass: groupOfNames\ncn: analysts\nmember: uid=alice,ou=people,dc=pcapmesh,dc=test\n\n'
    printf 'dn: cn=admins,ou=groups,dc=pcapmesh,dc=test\nobjectClass: groupOfNames\ncn: admins\nmember: uid=bob,ou=people,dc=pcapmesh,dc=test\n\n'
  } >"$ld/data.ldif"
  "$slapadd" -q -f "$ld/slapd.conf" -l "$ld/data.ldif" || die "slapadd failed"
  "$slapd" -f "$ld/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/" || die "slapd did not start"
  local i
  for i in $(seq 50); do ldap_running && { log "slapd started on 127.0.0.1:$ldap_port"; return; }; sleep 0.1; done
  die "slapd did not start on 127.0.0.1:$ldap_port"
}

ldap_stop() {
  ldap_running || return 0
  local pid; pid=$(cat "$ld/slapd.pid")
  kill "$pid"
  local i
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "slapd stopped"
}

# ---------------------------------------------------------------- commands
print_env() {
  [ -s "$mq/collector.secret" ] || die "not started: run scripts/services.sh start first"
  local secret; secret=$(cat "$mq/collector.secret")
  cat <<EOF
export PCAPMESH_TEST_DATABASE_URL='postgres://pcapmesh:pcapmesh@127.0.0.1:$pg_port/pcapmesh'
export PCAPMESH_TEST_REDIS_URL='redis://127.0.0.1:$redis_port'
export PCAPMESH_TEST_MQTT_URL='mqtt://127.0.0.1:$mqtt_port'
export PCAPMESH_TEST_MQTT_USERNAME='$collector_user'
export PCAPMESH_TEST_MQTT_PASSWORD='$secret'
export PCAPMESH_TEST_MQTT_EVENTS_USERNAME='$events_user'
export PCAPMESH_TEST_MQTT_EVENTS_PASSWORD='$(cat "$mq/events.secret")'
export PCAPMESH_TEST_MQTT_PASSWORD_FILE='$mq/passwd'
export PCAPMESH_TEST_MQTT_ACL_FILE='$mq/acl'
export PCAPMESH_TEST_MQTT_PID_FILE='$mq/mosquitto.pid'
export PCAPMESH_TEST_LDAP_URL='ldap://127.0.0.1:$ldap_port'
EOF
}

status() {
  local ok=0
  pg_running || { log "postgres is not answering on 127.0.0.1:$pg_port"; ok=1; }
  redis_running || { log "redis is not answering on 127.0.0.1:$redis_port"; ok=1; }
  mqtt_running || { log "mosquitto is not running on 127.0.0.1:$mqtt_port"; ok=1; }
  ldap_running || { log "slapd is not running on 127.0.0.1:$ldap_port"; ok=1; }
  [ $ok -eq 0 ] && log "postgres :$pg_port, redis :$redis_port, mosquitto :$mqtt_port, slapd :$ldap_port all running"
  return $ok
}

mkdir -p "$dir"
case "${1:-}" in
  start) pg_start; redis_start; mqtt_start; ldap_start ;;
  stop) ldap_stop; mqtt_stop; redis_stop; pg_stop ;;
  status) status ;;
  env) print_env ;;
  clean)
    ldap_stop; mqtt_stop; redis_stop; pg_stop
    [ -f "$dir/postgres.path" ] && rm -rf "$(cat "$dir/postgres.path")"
    rm -rf "$dir"; log "removed $dir" ;;
  *) echo "usage: $0 start|stop|status|env|clean" >&2; exit 2 ;;
esac
