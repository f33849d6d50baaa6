/**
 * Process-tree facts from /proc (Linux): which processes descend from a pid, which belong to a
 * process group, which are still alive. Used to prove that nothing outlives a stopped program.
 */
import { readFileSync, readdirSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  comm: string;
}

/** /proc/<pid>/stat of every live process (zombies excluded). */
export function processTable(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses: split at the last ')'.
    const close = text.lastIndexOf(')');
    const [state, ppid, pgrp] = text.slice(close + 2).split(' ');
    if (state === 'Z' || state === 'X') continue;
    out.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp), comm: text.slice(text.indexOf('(') + 1, close) });
  }
  return out;
}

/** Live descendants of `pid` (children, grandchildren, …). */
export function descendants(pid: number): ProcStat[] {
  const table = processTable();
  const found: ProcStat[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const p of table) {
      if (p.ppid === parent) {
        found.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return found;
}

/** Live processes among `pids`, plus any live member of process group `pgrp`. */
export function survivors(pids: readonly number[], pgrp: number): ProcStat[] {
  const wanted = new Set(pids);
  return processTable().filter((p) => wanted.has(p.pid) || p.pgrp === pgrp);
}
