/** Command line of `pcapmesh-agent`. */

export const USAGE = `usage: pcapmesh-agent [run] [--config FILE]
       pcapmesh-agent enroll --collector URL --token TOKEN [--config FILE]
       pcapmesh-agent --help | --version

  run            start the agent (the default command)
  --config FILE  YAML configuration (default /etc/pcapmesh/agent.yaml when it exists);
                 PCAPMESH_AGENT_* variables override keys, e.g. PCAPMESH_AGENT_MQTT__URL
`;

export type Args = { config?: string; help?: boolean; version?: boolean } | { error: string };

export function parseArgs(argv: string[]): Args {
  const out: { config?: string; help?: boolean; version?: boolean } = {};
  const rest = [...argv];
  if (rest[0] === 'run') rest.shift();
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--version') out.version = true;
    else if (arg === '--config' || arg === '-c') {
      const file = rest.shift();
      if (!file) return { error: `${arg} needs a file name` };
      out.config = file;
    } else if (arg.startsWith('--config=')) out.config = arg.slice('--config='.length);
    else return { error: `unknown argument ${JSON.stringify(arg)}` };
  }
  return out;
}
