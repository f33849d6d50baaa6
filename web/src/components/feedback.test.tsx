import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { describe, expect, test } from 'vitest';
import { Gauge } from './gauge.jsx';
import { Modal } from './modal.jsx';
import { ToastProvider, useToasts, type Toaster } from './toasts.jsx';

describe('toasts', () => {
  test('show in a live region, errors as alerts, and can be dismissed', () => {
    let toaster!: Toaster;
    function Grab() {
      toaster = useToasts();
      return null;
    }
    render(() => (
      <ToastProvider>
        <Grab />
      </ToastProvider>
    ));
    toaster.show({ kind: 'success', text: 'Saved.' });
    toaster.show({ kind: 'error', text: 'Could not save.' });
    expect(screen.getByRole('status').textContent).toContain('Saved.');
    expect(screen.getByRole('alert').textContent).toContain('Could not save.');
    fireEvent.click(screen.getAllByRole('button', { name: 'Dismiss notification' })[0]!);
    expect(screen.queryByText('Saved.')).toBeNull();
  });

  test('useToasts outside a provider explains itself', () => {
    function Bad() {
      useToasts();
      return null;
    }
    expect(() => render(() => <Bad />)).toThrow(/ToastProvider/);
  });
});

describe('modal dialog', () => {
  test('opens from its prop, is labelled by its title, Escape and × ask to close', () => {
    const [open, setOpen] = createSignal(false);
    let closes = 0;
    render(() => (
      <Modal open={open()} title="Session ending" onClose={() => (closes += 1)}>
        <p>body</p>
      </Modal>
    ));
    const dialog = document.querySelector('dialog')!;
    expect(dialog.open).toBe(false);
    setOpen(true);
    expect(dialog.open).toBe(true);
    expect(document.getElementById(dialog.getAttribute('aria-labelledby')!)?.textContent).toBe('Session ending');
    fireEvent(dialog, new Event('cancel', { cancelable: true }));
    fireEvent.click(screen.getByRole('button', { name: 'Close dialog' }));
    expect(closes).toBe(2);
    setOpen(false);
    expect(dialog.open).toBe(false);
  });
});

describe('gauge', () => {
  test('a meter with its value and level; null shows no data', () => {
    render(() => (
      <>
        <Gauge label="CPU" value={93.4} />
        <Gauge label="Memory" value={null} />
      </>
    ));
    const meter = screen.getByRole('meter', { name: 'CPU' });
    expect(meter.getAttribute('aria-valuenow')).toBe('93');
    expect(meter.className).toContain('gauge-alert');
    expect(screen.getByLabelText('Memory: no data yet')).toBeTruthy();
  });
});
