import { fireEvent, render } from '@solidjs/testing-library';
import { describe, expect, test } from 'vitest';
import { VirtualTable, type Column } from './virtual-table.jsx';

interface Row {
  name: string;
  n: number;
}
const rows: Row[] = Array.from({ length: 1000 }, (_, i) => ({ name: `s${String(i).padStart(4, '0')}`, n: i }));
const columns: Column<Row>[] = [
  { key: 'name', header: 'Name', width: '1fr', cell: (r) => r.name },
  { key: 'n', header: 'N', width: '80px', cell: (r) => String(r.n) },
];

function setup() {
  const activated: Row[] = [];
  const r = render(() => (
    <VirtualTable label="Things" rows={rows} columns={columns} rowKey={(x) => x.name} rowHeight={40} onActivate={(x) => activated.push(x)} />
  ));
  const grid = r.getByRole('grid', { name: 'Things' });
  const active = () => document.getElementById(grid.getAttribute('aria-activedescendant') ?? '')?.getAttribute('data-key');
  return { ...r, grid, activated, active };
}

describe('VirtualTable', () => {
  test('1,000 rows: only the rows in view exist, the spacer is as tall as all of them', () => {
    const { grid } = setup();
    const rendered = grid.querySelectorAll('[role=row][data-key]');
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.length).toBeLessThan(60);
    expect(grid.getAttribute('aria-rowcount')).toBe('1001');
    expect((grid.querySelector('[role=rowgroup]') as HTMLElement).style.height).toBe('40000px');
    expect(grid.querySelectorAll('[role=columnheader]')).toHaveLength(2);
  });

  test('scrolling renders the rows at the new position', async () => {
    const { grid } = setup();
    grid.scrollTop = 20_000; // row 500
    fireEvent.scroll(grid);
    const keys = Array.from(grid.querySelectorAll('[role=row][data-key]')).map((r) => r.getAttribute('data-key'));
    expect(keys).toContain('s0500');
    expect(keys).not.toContain('s0000');
  });

  test('keyboard: arrows, End, Home move the active row; Enter activates it', () => {
    const { grid, activated, active } = setup();
    expect(grid.tabIndex).toBe(0);
    expect(active()).toBe('s0000');
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(active()).toBe('s0002');
    fireEvent.keyDown(grid, { key: 'ArrowUp' });
    expect(active()).toBe('s0001');
    fireEvent.keyDown(grid, { key: 'End' });
    expect(active()).toBe('s0999');
    expect(grid.scrollTop).toBeGreaterThan(39_000 - 600);
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(active()).toBe('s0999');
    fireEvent.keyDown(grid, { key: 'Home' });
    expect(active()).toBe('s0000');
    fireEvent.keyDown(grid, { key: 'Enter' });
    expect(activated.map((r) => r.name)).toEqual(['s0000']);
  });
});
