/**
 * A filter the parser or compiler refuses. `position` is the 0-based character offset in the
 * filter text (the structured form reports the field instead), `expected` what would have been
 * accepted there; the message reads "at 14: expected a port number after 'port', got 'x'".
 */
export class FilterSyntaxError extends Error {
  readonly position: number;
  readonly expected: string;
  readonly found: string;

  constructor(position: number, expected: string, found: string, options?: ErrorOptions) {
    super(`at ${position}: expected ${expected}, got ${found}`, options);
    this.name = 'FilterSyntaxError';
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}

/** A tcpdump primitive we recognise but do not implement (`gateway`, `ether host`, `tcp[13]`, …). */
export class FilterUnsupportedError extends Error {
  readonly position: number;

  constructor(position: number, what: string) {
    super(
      `at ${position}: ${what} is not supported (supported: host, net, port, portrange, src/dst, tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, rarp, vlan, proto, less, greater, and/or/not)`,
    );
    this.name = 'FilterUnsupportedError';
    this.position = position;
  }
}
