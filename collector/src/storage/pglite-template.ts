/**
 * A freshly initialised PGlite data dir, dumped once and reused: starting an in-memory instance
 * from the dump (~1 s) is much faster than PGlite's initdb (~5 s), and tests open many.
 * Cached per process and on disk in the OS temp dir (`pcapmesh-pglite/`), keyed by the PGlite
 * version; the file is written to a temp name and renamed, so concurrent processes never read a
 * partial one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let template: Promise<Blob> | undefined;

export function pgliteTemplate(): Promise<Blob> {
  template ??= build().catch((err: unknown) => {
    template = undefined; // let a later call try again
    throw new Error('cannot prepare the PGlite template data dir', { cause: err });
  });
  return template;
}

async function build(): Promise<Blob> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite'); // <pkg>/dist/index.cjs
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const file = join(tmpdir(), 'pcapmesh-pglite', `pglite-${version}-initdb.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const pg = await PGlite.create('memory://');
  const dump = await pg.dumpDataDir('none');
  await pg.close();
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, new Uint8Array(await dump.arrayBuffer()));
  renameSync(temp, file);
  return dump;
}
