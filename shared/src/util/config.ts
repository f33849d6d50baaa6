/**
 * Configuration loading shared by the collector and the agent: a YAML file, then environment
 * overrides, validated once against a zod schema. Every bad, unknown or missing key is listed in
 * one ConfigError; nothing starts on a half-valid configuration.
 *
 * Environment overrides follow one fixed pattern: the prefix, then the key path with each
 * camelCase segment in UPPER_SNAKE and segments joined by a double underscore:
 *
 *   http.port            → PCAPMESH_HTTP__PORT
 *   mqtt.tls.certFile    → PCAPMESH_MQTT__TLS__CERT_FILE
 *   (agent) mqtt.url     → PCAPMESH_AGENT_MQTT__URL
 *
 * Values are read as YAML scalars, so `8080` is a number, `true` a boolean and `[a, b]` a list.
 * `aliases` maps conventional variables (DATABASE_URL) onto keys; the prefixed form wins.
 *
 * @example
 *   const cfg = loadConfig(collectorSchema, { file: '/etc/pcapmesh/collector.yaml', envPrefix: 'PCAPMESH_',
 *     aliases: { DATABASE_URL: 'database.url' } });
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file to read; undefined means defaults and environment only. */
  file?: string | undefined;
  envPrefix: string;
  env?: NodeJS.ProcessEnv;
  aliases?: Record<string, string>;
}

type Json = Record<string, unknown>;

/** Key paths of every leaf of an object schema (through defaults, optionals and nullables). */
export function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

export function envName(prefix: string, path: string[]): string {
  return prefix + path.map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[seg] = {};
    node = node[seg] as Json;
  }
  node[path[path.length - 1]!] = value;
}

export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadOptions): z.infer<S> {
  const env = opts.env ?? process.env;
  const source = opts.file ?? 'defaults and environment';
  let raw: Json = {};
  if (opts.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read config file ${opts.file}: ${(err as Error).message}`], source);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError([`${opts.file} is not valid YAML: ${(err as Error).message}`], source);
    }
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError([`${opts.file} must hold a mapping of keys, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`], source);
    }
    raw = parsed as Json;
  }

  const origin = new Map<string, string>();
  const overrides: [string[], string][] = [];
  for (const [alias, key] of Object.entries(opts.aliases ?? {})) {
    const value = env[alias];
    if (value !== undefined && value !== '') overrides.push([key.split('.'), alias]);
  }
  for (const path of leafPaths(schema)) {
    const name = envName(opts.envPrefix, path);
    if (env[name] !== undefined) overrides.push([path, name]);
  }
  for (const [path, name] of overrides) {
    const text = env[name]!;
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch {
      value = text;
    }
    // A bare string that YAML turned into something else but the key wants a string (e.g. a
    // password "123") is handled by the schema's own coercion where it declares one.
    setPath(raw, path, value === null ? text : value);
    origin.set(path.join('.'), name);
  }

  const result = schema.safeParse(raw);
  if (result.success) return result.data as z.infer<S>;
  const problems = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [];
    const where = keys.length > 0 ? keys.join(', ') : issue.path.join('.') || '(top level)';
    const from = origin.get(issue.path.join('.'));
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    return `${where}: ${message}${from ? ` (from ${from})` : ''}`;
  });
  throw new ConfigError(problems, source);
}
