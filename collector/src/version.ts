/** The collector's version, from collector/package.json (same relative path from src/ and dist/). */
import { readFileSync } from 'node:fs';

export const COLLECTOR_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
