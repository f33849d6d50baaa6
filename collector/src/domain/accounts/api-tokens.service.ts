/**
 * API tokens: bearer credentials for integrations and scripts. Each carries a role (admin, analyst,
 * viewer) and is stored only as its argon2id hash (storage/api-tokens.repo.ts). Transport calls
 * this: http/routes/admin-api-tokens.ts to administer them, http/credentials.ts to authenticate.
 *
 * Contract:
 * - `create` makes a random token (`pmt_` + 32 bytes base64url) called `name` with `role` and
 *   returns its plaintext, which is never stored (show it once); a taken name is `conflict`;
 *   audited `api-token.create` { role };
 * - `remove` deletes it (`not_found` when there is none); audited `api-token.delete`; a process that
 *   verified the token in the last minute may accept it until its cache entry expires;
 * - `authenticate` checks a presented token against every stored hash (argon2 costs ~90 ms, so a
 *   verified token is remembered for a minute by its SHA-256, never in plaintext) → `{ name, role }`
 *   or null;
 * - `ensureStartToken` runs at collector start: `http.apiToken` configured → stored as admin token
 *   "config" (re-hashed only when it changed); otherwise, on the first start, an admin token
 *   "generated" is created and its plaintext written once to `<dataDir>/api-token` (mode 0600);
 *   later starts leave it alone.
 *
 * @example
 *   const { token } = await apiTokens.create({ actor: 'admin' }, 'grafana', 'viewer');
 *   await apiTokens.authenticate(token); // { name: 'grafana', role: 'viewer' }
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import type { Logger } from '../../log.js';
import { ApiTokensRepo } from '../../storage/api-tokens.repo.js';
import type { Queryable } from '../../storage/db.js';
import { conflict, notFound } from '../errors.js';
import type { AuditService, ChangedBy } from './audit.service.js';
import { isRole, type Role } from './roles.js';

/** The file (in dataDir) that receives the generated token's plaintext on the first start. */
export const API_TOKEN_FILE = 'api-token';
const CACHE_MS = 60_000;

/** A new random token: `pmt_` + 32 random bytes in base64url (valid as a WebSocket sub-protocol too). */
export function generateApiToken(): string {
  return `pmt_${randomBytes(32).toString('base64url')}`;
}

export interface ApiTokenView {
  name: string;
  role: Role;
}

export interface ApiTokensServiceDeps {
  db: Queryable;
  audit: AuditService;
  log: Logger;
  now?: () => number;
}

const roleOf = (role: string): Role => (isRole(role) ? role : 'viewer');

export class ApiTokensService {
  /** sha256(token) → who it is and until when; only tokens that verified. */
  private readonly recent = new Map<string, { token: ApiTokenView; until: number }>();
  readonly counters = { verified: 0, refused: 0, cached: 0 };
  private readonly repo: ApiTokensRepo;
  private readonly now: () => number;

  constructor(private readonly deps: ApiTokensServiceDeps) {
    this.repo = new ApiTokensRepo(deps.db);
    this.now = deps.now ?? Date.now;
  }

  async list(): Promise<ApiTokenView[]> {
    return (await this.repo.list()).map(({ name, role }) => ({ name, role: roleOf(role) }));
  }

  /** A new token called `name` with `role`; returns its plaintext (show it once). */
  async create(by: ChangedBy, name: string, role: Role): Promise<ApiTokenView & { token: string }> {
    const token = generateApiToken();
    if (!(await this.repo.insert(name, await hash(token), role))) throw conflict(`API token ${name} already exists`);
    await this.deps.audit.record({ ...by, action: 'api-token.create', target: name, outcome: 'ok', details: { role } });
    return { name, role, token };
  }

  async remove(by: ChangedBy, name: string): Promise<void> {
    if (!(await this.repo.remove(name))) throw notFound(`API token ${name}`);
    await this.deps.audit.record({ ...by, action: 'api-token.delete', target: name, outcome: 'ok' });
  }

  /** Who the presented token is, or null (see the contract). */
  async authenticate(token: string): Promise<ApiTokenView | null> {
    if (token.length < 16 || token.length > 512) {
      this.counters.refused += 1;
      return null;
    }
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.recent.get(key);
    if (hit && hit.until > this.now()) {
      this.counters.cached += 1;
      return hit.token;
    }
    this.recent.delete(key);
    for (const row of await this.repo.list()) {
      if (await verify(row.tokenHash, token)) {
        const found = { name: row.name, role: roleOf(row.role) };
        this.recent.set(key, { token: found, until: this.now() + CACHE_MS });
        this.counters.verified += 1;
        this.repo.touch(row.name, new Date(this.now())).catch((err: unknown) =>
          this.deps.log.warn({ err, tokenName: row.name }, 'recording API token use failed'),
        );
        return found;
      }
    }
    this.counters.refused += 1;
    return null;
  }

  /** At start: the configured token, or on the first start a generated one written to `<dataDir>/api-token`. */
  async ensureStartToken(opts: { configured: string | undefined; dataDir: string }): Promise<{ writtenTo: string | null }> {
    const { log } = this.deps;
    if (opts.configured !== undefined) {
      const existing = await this.repo.find('config');
      if (existing === null || !(await verify(existing.tokenHash, opts.configured))) {
        await this.repo.put('config', await hash(opts.configured)); // @node-rs/argon2 defaults to argon2id
        log.info('API token from http.apiToken stored');
      }
      return { writtenTo: null };
    }
    if ((await this.repo.find('generated')) !== null) return { writtenTo: null };
    const token = generateApiToken();
    const path = join(opts.dataDir, API_TOKEN_FILE);
    try {
      await mkdir(opts.dataDir, { recursive: true });
      await writeFile(path, `${token}\n`, { mode: 0o600 });
      await chmod(path, 0o600);
    } catch (err) {
      throw new Error(`cannot write the generated API token to ${path}`, { cause: err });
    }
    await this.repo.put('generated', await hash(token));
    log.info({ path }, 'generated an API token; its plaintext is in this file (shown once)');
    return { writtenTo: path };
  }
}
