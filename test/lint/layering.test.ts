/**
 * Keeps the layering rules of eslint.config.js working: every file under test/lint/fixtures breaks
 * them on purpose, at the path of the code it stands for. Linting it with the project's own config
 * (ESLint's Node API, as `npm run lint` does) must report exactly the lines marked `// expect-error`
 * — no fewer (a rule that stopped matching) and no more (a rule that forbids what is allowed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/lint/fixtures');
const RULE = '@typescript-eslint/no-restricted-imports';

function fixtureFiles(): string[] {
  return readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(fixtures, f))
    .sort();
}

/** The project's config with its ignores switched off (the fixtures are ignored by `npm run lint`). */
const eslint = new ESLint({ cwd: root, ignore: false });

test('every fixture reports exactly its lines marked expect-error, and nothing else', async () => {
  const files = fixtureFiles();
  assert.ok(files.length >= 8, `expected the fixtures under ${fixtures}, found ${files.length}`);
  const results = await eslint.lintFiles(files);
  let expectedTotal = 0;
  for (const result of results) {
    const name = relative(root, result.filePath);
    const expected = readFileSync(result.filePath, 'utf8')
      .split('\n')
      .flatMap((line, i) => (line.includes('// expect-error') ? [i + 1] : []));
    expectedTotal += expected.length;
    const other = result.messages.filter((m) => m.ruleId !== RULE);
    assert.deepEqual(
      other.map((m) => `${m.line}: ${m.ruleId ?? 'fatal'} ${m.message}`),
      [],
      `${name}: other problems`,
    );
    const reported = result.messages.map((m) => m.line);
    assert.deepEqual(reported, expected, `${name}: lines reported by ${RULE} (${result.messages.map((m) => m.message).join(' | ')})`);
  }
  assert.ok(expectedTotal >= 30, `only ${expectedTotal} expected errors in the fixtures`);
});

test('the message names the layer and the way out', async () => {
  const [result] = await eslint.lintFiles([join(fixtures, 'collector/src/domain/sensors/imports-transport.ts')]);
  const hono = result!.messages.find((m) => m.line === 2);
  assert.match(hono?.message ?? '', /'hono' import is restricted.*collector\/src\/domain imports no transport/);
});

test('npm run lint leaves the fixtures alone but lints the real folders', async () => {
  const linted = new ESLint({ cwd: root });
  assert.equal(await linted.isPathIgnored(join(fixtures, 'collector/src/domain/sensors/imports-transport.ts')), true);
  assert.equal(await linted.isPathIgnored(join(root, 'collector/src/domain/sensors/sensors.service.ts')), false);
});

test('max-lines: 500 lines pass, 501 fail', async () => {
  const filePath = join(fixtures, 'collector/src/domain/long.ts');
  const lines = (n: number): string => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n');
  const [ok] = await eslint.lintText(lines(500), { filePath });
  assert.deepEqual(ok!.messages, []);
  const [long] = await eslint.lintText(lines(501), { filePath });
  assert.deepEqual(
    long!.messages.map((m) => m.ruleId),
    ['max-lines'],
  );
});
