import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printFirstStartNotes } from './ready.js';

const notes = { apiTokenFile: '/d/api-token', generatedAdminPassword: 'generated-Passw0rd-x' };

test('not on a terminal, the generated admin password goes to a 0600 file and only its path is printed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'first-start-'));
  try {
    let out = '';
    printFirstStartNotes(notes, { dataDir: dir, terminal: false, write: (t) => (out += t) });
    const file = join(dir, 'admin-password');
    assert.equal(readFileSync(file, 'utf8'), 'generated-Passw0rd-x\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(out, /generated-Passw0rd-x/);
    assert.match(out, new RegExp(`password is in ${file} \\(mode 0600`));
    assert.match(out, /API token written to \/d\/api-token/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data directory that does not exist yet is created (PostgreSQL); one that cannot be written is reported, password not printed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'first-start-'));
  try {
    let out = '';
    const nested = join(dir, 'not', 'yet');
    printFirstStartNotes(notes, { dataDir: nested, terminal: false, write: (t) => (out += t) });
    assert.equal(readFileSync(join(nested, 'admin-password'), 'utf8'), 'generated-Passw0rd-x\n');
    out = '';
    writeFileSync(join(dir, 'a-file'), '');
    printFirstStartNotes(notes, { dataDir: join(dir, 'a-file'), terminal: false, write: (t) => (out += t) });
    assert.match(out, /could not be written to .*a-file\/admin-password .*pcapmesh user passwd admin/);
    assert.doesNotMatch(out, /generated-Passw0rd-x/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on a terminal it is printed once and no file is written; no password, no note', () => {
  const dir = mkdtempSync(join(tmpdir(), 'first-start-'));
  try {
    let out = '';
    printFirstStartNotes(notes, { dataDir: dir, terminal: true, write: (t) => (out += t) });
    assert.match(out, /user "admin" created with password generated-Passw0rd-x/);
    assert.equal(existsSync(join(dir, 'admin-password')), false);
    out = '';
    printFirstStartNotes({ apiTokenFile: null, generatedAdminPassword: null }, { dataDir: dir, terminal: false, write: (t) => (out += t) });
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
