import { fireEvent, render, screen } from '@solidjs/testing-library';
import { describe, expect, test } from 'vitest';
import type { TimeRange } from '../time/range.js';
import { RangePicker } from './range-picker.jsx';

function setup(value: TimeRange = { kind: 'relative', key: '1h' }, timeZone = 'Asia/Kolkata') {
  const changes: TimeRange[] = [];
  const r = render(() => <RangePicker value={value} timeZone={timeZone} onChange={(x) => changes.push(x)} now={() => Date.UTC(2026, 10, 28, 6, 0)} />);
  return { ...r, changes };
}

describe('RangePicker', () => {
  test('a relative range is applied as chosen', () => {
    const { changes } = setup();
    fireEvent.change(screen.getByLabelText('Range'), { target: { value: '24h' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(changes).toEqual([{ kind: 'relative', key: '24h' }]);
  });

  test('absolute times are read in the given time zone', () => {
    const { changes } = setup();
    fireEvent.click(screen.getByLabelText('Absolute'));
    const from = screen.getByLabelText('From') as HTMLInputElement;
    expect(from.value).toBe('2026-11-28T10:30'); // one hour before now (06:00 UTC) in India
    fireEvent.input(from, { target: { value: '2026-11-28T09:00' } });
    fireEvent.input(screen.getByLabelText('To'), { target: { value: '2026-11-28T11:00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(changes).toEqual([{ kind: 'absolute', from: Date.UTC(2026, 10, 28, 3, 30), to: Date.UTC(2026, 10, 28, 5, 30) }]);
    expect(screen.getByRole('group', { name: 'Time range (Asia/Kolkata)' })).toBeTruthy();
  });

  test('a reversed range is refused with a message and changes nothing', () => {
    const { changes } = setup();
    fireEvent.click(screen.getByLabelText('Absolute'));
    fireEvent.input(screen.getByLabelText('From'), { target: { value: '2026-11-28T12:00' } });
    fireEvent.input(screen.getByLabelText('To'), { target: { value: '2026-11-28T11:00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(changes).toEqual([]);
    expect(screen.getByRole('alert').textContent).toMatch(/start must be before the end/);
    expect(screen.getByLabelText('From').getAttribute('aria-invalid')).toBe('true');
  });

  test('every input is labelled', () => {
    const { container } = setup({ kind: 'absolute', from: 0, to: 3_600_000 });
    for (const el of Array.from(container.querySelectorAll('input, select'))) {
      expect((el as HTMLInputElement).labels?.length ?? 0, el.outerHTML).toBeGreaterThan(0);
    }
  });
});
