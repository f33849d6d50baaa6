/**
 * A signing key that can be rotated (`pcapmesh keys rotate`) without cutting off what it signed:
 * the current key signs, and the previous key still verifies for `graceMs` after it was replaced —
 * the longest life of what it signed (an access token's minutes, a device cookie's days), so a
 * leaked old key stops working once everything it legitimately signed has expired.
 *
 * Contract:
 * - keys live in `auth_secrets` (storage/auth-secrets.repo.ts) as `name` and `name:previous`,
 *   shared by every collector on the database; never logged or returned;
 * - every collector re-reads them at most every `reloadMs` (default 30 s) when it next signs or
 *   verifies, so a rotation reaches running collectors within that time; a signature no key
 *   matches may ask for an early re-read (`reloadEarly`, at most once a second), so a token a
 *   restarted collector signed with the new key is not refused by one that has not re-read yet;
 * - `KeyRing.fixed(key)` is a ring of one key that never changes (tests, embedding).
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../storage/db.js';
import { ensureSecret, loadSecretSet, rotateSecretValue, type StoredSecretSet } from '../../storage/auth-secrets.repo.js';

const MIN_KEY_BYTES = 32;
/** The soonest reloadEarly() reads the keys again. */
const EARLY_RELOAD_MS = 1_000;

export class KeyRing {
  private loadedAt: number;
  private reloading: Promise<void> | null = null;

  private constructor(
    private set: StoredSecretSet,
    private readonly graceMs: number,
    private readonly now: () => number,
    private readonly reload: (() => Promise<StoredSecretSet | null>) | null,
    private readonly reloadMs: number,
  ) {
    this.loadedAt = now();
    decode(set.current); // a short key fails here, at start
  }

  /** Loads (or on the first start creates) the keys called `name`. */
  static async open(opts: { db: Queryable; name: string; graceMs: number; now?: () => number; reloadMs?: number }): Promise<KeyRing> {
    await ensureSecret(opts.db, opts.name, newKeyValue());
    const load = () => loadSecretSet(opts.db, opts.name);
    const set = await load();
    if (set === null) throw new Error(`auth secret ${opts.name} missing right after it was stored`);
    return new KeyRing(set, opts.graceMs, opts.now ?? Date.now, load, opts.reloadMs ?? 30_000);
  }

  /** One key, never rotated. */
  static fixed(key: Uint8Array): KeyRing {
    return new KeyRing({ current: Buffer.from(key).toString('base64url') }, 0, Date.now, null, 0);
  }

  /** The key that signs now. */
  async signing(): Promise<Uint8Array> {
    await this.fresh();
    return decode(this.set.current);
  }

  /** The keys a signature may be checked with: the current one, and the previous one within its grace time. */
  async verifying(): Promise<Uint8Array[]> {
    await this.fresh();
    const keys = [decode(this.set.current)];
    const previous = this.set.previous;
    // Collectors that have not reloaded yet sign with the old key for up to reloadMs after the rotation.
    if (previous && this.now() < previous.retiredAt.getTime() + this.graceMs + this.reloadMs) keys.push(decode(previous.value));
    return keys;
  }

  /**
   * Re-reads the keys now unless they were read within the last second; true when the current key
   * changed (the caller then tries again).
   */
  async reloadEarly(): Promise<boolean> {
    if (this.reload === null || this.now() - this.loadedAt < EARLY_RELOAD_MS) return false;
    const before = this.set.current;
    await this.fresh(true);
    return this.set.current !== before;
  }

  private async fresh(force = false): Promise<void> {
    if (this.reload === null || (!force && this.now() - this.loadedAt < this.reloadMs)) return;
    this.reloading ??= this.reload()
      .then((set) => {
        if (set !== null) this.set = set;
        this.loadedAt = this.now();
      })
      .finally(() => {
        this.reloading = null;
      });
    await this.reloading;
  }
}

/** Rotates the key called `name` (the old one becomes `name:previous`); false when it does not exist yet. */
export function rotateKey(db: Queryable, name: string): Promise<boolean> {
  return rotateSecretValue(db, name, newKeyValue());
}

function newKeyValue(): string {
  return randomBytes(MIN_KEY_BYTES).toString('base64url');
}

function decode(value: string): Uint8Array {
  const key = Buffer.from(value, 'base64url');
  if (key.length < MIN_KEY_BYTES) throw new Error(`signing key must be at least ${MIN_KEY_BYTES} bytes`);
  return key;
}
