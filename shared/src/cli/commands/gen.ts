/** Hidden `pcapmesh-pcap gen ...`: the deterministic traffic generator (see pcap/gen/cli.ts). */
import { GEN_USAGE, genMain } from '../../pcap/gen/cli.js';
import type { CliCommand } from '../command.js';

export const command: CliCommand = {
  summary: 'write deterministic synthetic traffic (benches, tests)',
  usage: GEN_USAGE,
  run(args) {
    console.log(JSON.stringify(genMain(args)));
    return 0;
  },
};
