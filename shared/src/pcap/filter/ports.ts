/**
 * Port names the filter language accepts, as in Debian's /etc/services (what tcpdump resolves
 * there): a name listed for TCP only means TCP only (`port http` = `tcp port 80`).
 */
export interface NamedPort {
  port: number;
  /** undefined when the name is listed for both TCP and UDP. */
  proto?: 'tcp' | 'udp';
}

export const PORT_NAMES: Readonly<Record<string, NamedPort>> = {
  ftp: { port: 21, proto: 'tcp' },
  'ftp-data': { port: 20, proto: 'tcp' },
  ssh: { port: 22, proto: 'tcp' },
  telnet: { port: 23, proto: 'tcp' },
  smtp: { port: 25, proto: 'tcp' },
  domain: { port: 53 },
  bootps: { port: 67, proto: 'udp' },
  bootpc: { port: 68, proto: 'udp' },
  tftp: { port: 69, proto: 'udp' },
  http: { port: 80, proto: 'tcp' },
  www: { port: 80, proto: 'tcp' },
  kerberos: { port: 88 },
  pop3: { port: 110, proto: 'tcp' },
  ntp: { port: 123, proto: 'udp' },
  imap2: { port: 143, proto: 'tcp' },
  snmp: { port: 161 },
  'snmp-trap': { port: 162 },
  bgp: { port: 179, proto: 'tcp' },
  ldap: { port: 389 },
  https: { port: 443 },
  syslog: { port: 514, proto: 'udp' },
  submission: { port: 587, proto: 'tcp' },
  ldaps: { port: 636 },
  imaps: { port: 993, proto: 'tcp' },
  pop3s: { port: 995, proto: 'tcp' },
  openvpn: { port: 1194 },
  'ms-sql-s': { port: 1433, proto: 'tcp' },
  mysql: { port: 3306, proto: 'tcp' },
  sip: { port: 5060 },
  postgresql: { port: 5432, proto: 'tcp' },
};
