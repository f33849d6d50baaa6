/** The `pcapmesh --help` text. */
export const USAGE = `pcapmesh — PCAP server and sensor fleet collector

Usage:
  pcapmesh collector [--config FILE]          run the collector (API, broker, ingest)
  pcapmesh standalone [--config FILE]         collector + a local agent (sensor "local")
                                              watching <dataDir>/pcap; Ctrl-C stops both
  pcapmesh db migrate [--config FILE]         apply pending sql/ migrations
  pcapmesh db reset --force [--config FILE]   drop everything, then migrate from zero
  pcapmesh db backup FILE [--config FILE]     back the database up (PostgreSQL: pg_dump custom
                                              format; embedded: stop the collector first)
  pcapmesh db restore FILE [--config FILE]    replace the database with a backup (stop the
                                              collectors first)
  pcapmesh sensor add NAME [--location LOC] [--config FILE]
                                              register a sensor; prints its secret once
  pcapmesh user add NAME [--role admin|analyst|viewer] [--password-stdin]
                                              add a local user (default role viewer)
  pcapmesh user passwd NAME [--password-stdin]  set a new password
  pcapmesh user disable|enable NAME           lock a user out / let them back in
  pcapmesh user list                          users, roles and last logins
                                              (without --password-stdin a password is
                                              generated and printed once)
  pcapmesh keys rotate [--config FILE]        new keys for access tokens and device cookies;
                                              what the old ones signed stays valid until it
                                              expires (PGlite: stop the collector first)
  pcapmesh certs init [DIR] [--host NAME_OR_IP ...] [--force]
                                              a private CA and the collector's server certificate
                                              (default DIR <dataDir>/tls; hosts: this machine's
                                              names and addresses)
  pcapmesh certs sensor NAME [--dir DIR] [--force]
                                              a client certificate for sensor NAME (MQTTS with
                                              mqtt.tls.clientCaFile)
  pcapmesh job submit --from T --to T (--filter EXPR | --host H --port P ...)
                     (--sensors a,b | --locations X | --auto) [--name N]
                     [--max-bytes N] [--dry-run] [--wait [-o result.pcap]] [--json]
                                              plan (--dry-run) or submit a capture job
  pcapmesh job list [--status S] [--json]     jobs, newest first
  pcapmesh job show ID [--json]               a job and its tasks
  pcapmesh job cancel ID                      stop an open job
  pcapmesh job download ID [-o FILE] [--task T]  the merged capture (or one sensor's);
                                              resumes a partial FILE
  pcapmesh job verify MANIFEST.jws RESULT.pcap [--key jwks.json]
                                              check the signed evidence (offline with --key)
                                              (job commands talk HTTP: --url, --token-file;
                                              "pcapmesh job --help" for the details)
  pcapmesh --help

Configuration: a YAML file (--config) plus environment overrides PCAPMESH_<KEY__PATH>
(e.g. PCAPMESH_HTTP__PORT=8080), and DATABASE_URL, REDIS_URL, MQTT_URL.
"collector" and "standalone" print one JSON line to stdout when ready:
  {"event":"ready","http":"http://127.0.0.1:8080","mqtt":1883}
Logs go to stderr. Exit status: 0 success, 1 failure, 2 bad usage or configuration.
`;
