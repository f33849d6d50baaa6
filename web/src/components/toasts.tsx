/**
 * Toasts: short feedback messages in a polite live region (errors use an assertive one).
 * `useToasts().show({ kind, text })` from anywhere under <ToastProvider>; a toast closes itself
 * after `ms` (default 5 s; errors 10 s) or by its close button.
 */
import { createContext, createSignal, For, useContext, type JSX } from 'solid-js';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

export interface Toaster {
  show(t: { kind?: ToastKind; text: string; ms?: number }): number;
  dismiss(id: number): void;
  toasts(): Toast[];
}

const ToastContext = createContext<Toaster>();

export function ToastProvider(props: { children: JSX.Element }): JSX.Element {
  const [toasts, setToasts] = createSignal<Toast[]>([]);
  let next = 1;
  const toaster: Toaster = {
    toasts,
    show({ kind = 'info', text, ms }) {
      const id = next++;
      setToasts((list) => [...list.slice(-4), { id, kind, text }]);
      setTimeout(() => toaster.dismiss(id), ms ?? (kind === 'error' ? 10_000 : 5_000));
      return id;
    },
    dismiss(id) {
      setToasts((list) => list.filter((t) => t.id !== id));
    },
  };
  return (
    <ToastContext.Provider value={toaster}>
      {props.children}
      <div class="toasts" role="region" aria-label="Notifications">
        <div aria-live="polite">
          <For each={toasts().filter((t) => t.kind !== 'error')}>{(t) => <ToastView toast={t} onClose={toaster.dismiss} />}</For>
        </div>
        <div aria-live="assertive">
          <For each={toasts().filter((t) => t.kind === 'error')}>{(t) => <ToastView toast={t} onClose={toaster.dismiss} />}</For>
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastView(props: { toast: Toast; onClose: (id: number) => void }): JSX.Element {
  return (
    <div class={`toast toast-${props.toast.kind}`} role={props.toast.kind === 'error' ? 'alert' : 'status'}>
      <span>{props.toast.text}</span>
      <button type="button" class="icon-button" aria-label="Dismiss notification" onClick={() => props.onClose(props.toast.id)}>
        ×
      </button>
    </div>
  );
}

export function useToasts(): Toaster {
  const t = useContext(ToastContext);
  if (!t) throw new Error('useToasts() needs a <ToastProvider> above it');
  return t;
}
