/**
 * Expands extract inputs: files as given, directories recursively (sorted by path, hidden
 * entries and `.pmidx` index sidecars left out). A missing input is an error naming it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.') || entry.name.endsWith('.pmidx')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch (cause) {
      throw new Error(`input '${input}' cannot be read: ${(cause as Error).message}`, { cause });
    }
    if (isDir) walk(input);
    else files.push(input);
  }
  return files;
}
