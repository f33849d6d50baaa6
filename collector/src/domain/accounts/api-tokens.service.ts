/**
 * API tokens: bearer credentials for integrations and scripts. Each carries a role (admin, analyst,
 * viewer) and is stored only as its SHA-256 (`sha256:` form, domain/accounts/machine-secrets.ts;
 * rows from before are argon2id hashes, upgraded on their next use). Transport calls
 * this: http/routes/admin-api-tokens.ts to administer them, http/credentials.ts to authenticate.
 *
 * Contract:
 * - `create` makes a random token (`pmt_` + 32 bytes base64url) called `name` with `role` and
 *   returns its plaintext, which is never stored (show it once); a taken name is `conflict`;
 *   audited `api-token.create` { role };
 * - `remove` deletes it (`not_found` when there is none); audited `api-token.delete`; a process that
 *   verified the token in the last minute may accept it until its cache entry expires;
 * - `authenticate` looks the presented token up by its SHA-256 (no password hash: a junk bearer
 *   costs one indexed query) → `{ name, role }` or null. Only a token of the generated shape
 *   (`pmt_` + 43 characters) that matches no SHA-256 is tried against the legacy argon2 rows, within
 *   the process-wide LegacyVerifier budget; a legacy row that verifies is rewritten as SHA-256.
 *   A verified token is remembered for a minute by its SHA-256, never in plaintext;
 * - `ensureStartToken` runs at collector start: `http.apiToken` configured → stored as admin token
 *   "config" (re-hashed only when it changed or is still a legacy hash); otherwise, on the first start, an admin token
 *   "generated" is created and its plaintext written once to `<dataDir>/api-token` (mode 0600);
 *   later starts leave it alone.
 *
 * @example
 *   const { token } = await apiTokens.create({ actor: 'admin' }, 'grafana', 'viewer');
 *   await apiTokens.authenticate(token); // { name: 'grafana', role: 'viewer' }
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { ApiTokensRepo } from '../../storage/api-tokens.repo.js';
import type { Queryable } from '../../storage/db.js';
import { conflict, notFound } from '../errors.js';
import type { AuditService, ChangedBy } from './audit.service.js';
import { hashMachineSecret, matchesSha256, sharedLegacyVerifier, type LegacyVerifier } from './machine-secrets.js';
import { isRole, type Role } from './roles.js';

/** The file (in dataDir) that receives the generated token's plaintext on the first start. */
export const API_TOKEN_FILE = 'api-token';
const CACHE_MS = 60_000;
/** The shape of a generated token (and so of every legacy token worth an argon2 check). */
const GENERATED_SHAPE = /^pmt_[A-Za-z0-9_-]{43}$/;

/** A new random token: `pmt_` + 32 random bytes in base64url (valid as a WebSocket sub-protocol too). */
export function generateApiToken(): string {
  return `pmt_${randomBytes(32).toString('base64url')}`;
}

export interface ApiTokenView {
  name: string;
  role: Role;
}

/** An authenticated token: its view and its stable id (api_tokens.id). */
export interface AuthenticatedApiToken extends ApiTokenView {
  id: number;
}

export interface ApiTokensServiceDeps {
  db: Queryable;
  audit: AuditService;
  log: Logger;
  now?: () => number;
  /** Budget for checks against legacy argon2 rows (default: the process-wide one). */
  legacy?: LegacyVerifier;
}

const roleOf = (role: string): Role => (isRole(role) ? role : 'viewer');

export class ApiTokensService {
  /** sha256(token) → who it is and until when; only tokens that verified. */
  private readonly recent = new Map<string, { token: AuthenticatedApiToken; until: number }>();
  readonly counters = { verified: 0, refused: 0, cached: 0, upgraded: 0 };
  private readonly repo: ApiTokensRepo;
  private readonly now: () => number;
  private readonly legacy: LegacyVerifier;

  constructor(private readonly deps: ApiTokensServiceDeps) {
    this.repo = new ApiTokensRepo(deps.db);
    this.now = deps.now ?? Date.now;
    this.legacy = deps.legacy ?? sharedLegacyVerifier;
  }

  async list(): Promise<ApiTokenView[]> {
    return (await this.repo.list()).map(({ name, role }) => ({ name, role: roleOf(role) }));
  }

  /** A new token called `name` with `role`; returns its plaintext (show it once). */
  async create(by: ChangedBy, name: string, role: Role): Promise<ApiTokenView & { token: string }> {
    const token = generateApiToken();
    if (!(await this.repo.insert(name, hashMachineSecret(token), role))) throw conflict(`API token ${name} already exists`);
    await this.deps.audit.record({ ...by, action: 'api-token.create', target: name, outcome: 'ok', details: { role } });
    return { name, role, token };
  }

  async remove(by: ChangedBy, name: string): Promise<void> {
    if (!(await this.repo.remove(name))) throw notFound(`API token ${name}`);
    await this.deps.audit.record({ ...by, action: 'api-token.delete', target: name, outcome: 'ok' });
  }

  /** Who the presented token is, or null (see the contract). */
  async authenticate(token: string): Promise<AuthenticatedApiToken | null> {
    if (token.length < 16 || token.length > 512) {
      this.counters.refused += 1;
      return null;
    }
    const key = hashMachineSecret(token);
    const hit = this.recent.get(key);
    if (hit && hit.until > this.now()) {
      this.counters.cached += 1;
      return hit.token;
    }
    this.recent.delete(key);
    const row = await this.repo.findByHash(key);
    const found = row !== null && matchesSha256(row.tokenHash, token) ? row : await this.legacyMatch(token, key);
    if (found === null) {
      this.counters.refused += 1;
      return null;
    }
    const view: AuthenticatedApiToken = { id: found.id, name: found.name, role: roleOf(found.role) };
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(key, { token: view, until: this.now() + CACHE_MS });
    this.counters.verified += 1;
    this.repo
      .touch(found.name, new Date(this.now()))
      .catch((err: unknown) => this.deps.log.warn({ err, tokenName: found.name }, 'recording API token use failed'));
    return view;
  }

  /** A legacy argon2 row that `token` verifies against (then rewritten as `key`), or null. */
  private async legacyMatch(token: string, key: string): Promise<{ id: number; name: string; role: string } | null> {
    if (!GENERATED_SHAPE.test(token)) return null;
    for (const row of await this.repo.listLegacy()) {
      const ok = await this.legacy.verify(row.tokenHash, token);
      if (ok === 'throttled') {
        this.deps.log.warn({ tokenName: row.name }, 'API token check against legacy hashes over budget; refused unchecked');
        return null;
      }
      if (!ok) continue;
      if (await this.repo.rehash(row.name, row.tokenHash, key)) {
        this.counters.upgraded += 1;
        this.deps.log.info({ tokenName: row.name }, 'API token hash upgraded from argon2 to SHA-256');
      }
      return row;
    }
    return null;
  }

  /** At start: the configured token, or on the first start a generated one written to `<dataDir>/api-token`. */
  async ensureStartToken(opts: { configured: string | undefined; dataDir: string }): Promise<{ writtenTo: string | null }> {
    const { log } = this.deps;
    if (opts.configured !== undefined) {
      const existing = await this.repo.find('config');
      if (existing === null || !matchesSha256(existing.tokenHash, opts.configured)) {
        await this.repo.put('config', hashMachineSecret(opts.configured));
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
    await this.repo.put('generated', hashMachineSecret(token));
    log.info({ path }, 'generated an API token; its plaintext is in this file (shown once)');
    return { writtenTo: path };
  }
}
