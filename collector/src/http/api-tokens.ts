/**
 * Interim API authentication (until users and roles): bearer tokens whose argon2id hashes live in
 * the database (ApiTokensRepo).
 *
 * `ensureApiToken` runs at start:
 * - `http.apiToken` configured → stored as token "config" (re-hashed only when it changed);
 * - otherwise, on the first start, a random token "generated" is created and its plaintext written
 *   once to `<dataDir>/api-token` (mode 0600); later starts leave it alone.
 *
 * `ApiTokenVerifier.verify` checks a presented token against every stored hash (argon2 costs
 * ~90 ms, so a verified token is remembered for a minute by its SHA-256, never in plaintext).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import type { Logger } from 'pino';
import { isRole, type Role } from '../domain/accounts/roles.js';
import type { ApiTokensRepo } from '../storage/api-tokens.repo.js';
import type { TokenVerifier } from './auth.js';
import type { Principal } from './env.js';

export const API_TOKEN_FILE = 'api-token';
const CACHE_MS = 60_000;

/** A new random token: `pmt_` + 32 random bytes in base64url (valid as a WebSocket sub-protocol too). */
export function generateApiToken(): string {
  return `pmt_${randomBytes(32).toString('base64url')}`;
}

/** A new admin-created, role-scoped token called `name`; returns its plaintext (show it once). */
export async function createApiToken(repo: ApiTokensRepo, name: string, role: Role): Promise<string> {
  const token = generateApiToken();
  await repo.put(name, await hash(token), role);
  return token;
}

export interface EnsureApiTokenResult {
  /** Set when a token was generated now: where its plaintext was written. */
  writtenTo: string | null;
}

export async function ensureApiToken(
  repo: ApiTokensRepo,
  opts: { configured: string | undefined; dataDir: string; log: Logger },
): Promise<EnsureApiTokenResult> {
  if (opts.configured !== undefined) {
    const existing = await repo.find('config');
    if (existing === null || !(await verify(existing.tokenHash, opts.configured))) {
      await repo.put('config', await hash(opts.configured)); // @node-rs/argon2 defaults to argon2id
      opts.log.info('API token from http.apiToken stored');
    }
    return { writtenTo: null };
  }
  if ((await repo.find('generated')) !== null) return { writtenTo: null };
  const token = generateApiToken();
  const path = join(opts.dataDir, API_TOKEN_FILE);
  try {
    await mkdir(opts.dataDir, { recursive: true });
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
  } catch (err) {
    throw new Error(`cannot write the generated API token to ${path}`, { cause: err });
  }
  await repo.put('generated', await hash(token));
  opts.log.info({ path }, 'generated an API token; its plaintext is in this file (shown once)');
  return { writtenTo: path };
}

export class ApiTokenVerifier implements TokenVerifier {
  /** sha256(token) → principal and expiry; only tokens that verified. */
  private readonly recent = new Map<string, { principal: Principal; until: number }>();
  readonly counters = { verified: 0, refused: 0, cached: 0 };

  constructor(
    private readonly repo: ApiTokensRepo,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    if (token.length < 16 || token.length > 512) {
      this.counters.refused += 1;
      return null;
    }
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.recent.get(key);
    if (hit && hit.until > this.now()) {
      this.counters.cached += 1;
      return hit.principal;
    }
    this.recent.delete(key);
    for (const row of await this.repo.list()) {
      if (await verify(row.tokenHash, token)) {
        const principal: Principal = { kind: 'api-token', name: row.name, role: isRole(row.role) ? row.role : 'viewer' };
        this.recent.set(key, { principal, until: this.now() + CACHE_MS });
        this.counters.verified += 1;
        this.repo.touch(row.name, new Date(this.now())).catch((err: unknown) =>
          this.log.warn({ err, tokenName: row.name }, 'recording API token use failed'),
        );
        return principal;
      }
    }
    this.counters.refused += 1;
    return null;
  }
}
