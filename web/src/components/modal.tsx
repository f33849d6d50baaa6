/**
 * A modal dialog on the native <dialog> element: focus moves into it and is trapped while open,
 * Escape (or the close button) calls `onClose`, focus returns to where it was on close.
 * Open state is controlled by `props.open`.
 */
import { createEffect, createUniqueId, onCleanup, Show, type JSX } from 'solid-js';

export interface ModalProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: JSX.Element;
  /** Buttons shown at the bottom. */
  actions?: JSX.Element;
}

export function Modal(props: ModalProps): JSX.Element {
  let dialog!: HTMLDialogElement;
  const titleId = createUniqueId();
  let returnFocus: Element | null = null;

  createEffect(() => {
    if (props.open && !dialog.open) {
      returnFocus = document.activeElement;
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  });
  onCleanup(() => {
    if (dialog?.open) dialog.close();
  });

  return (
    <dialog
      ref={dialog}
      class="modal"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClose={() => {
        if (returnFocus instanceof HTMLElement) returnFocus.focus();
      }}
    >
      <header class="modal-header">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="icon-button" aria-label="Close dialog" onClick={() => props.onClose()}>
          ×
        </button>
      </header>
      <div class="modal-body">{props.children}</div>
      <Show when={props.actions}>
        <footer class="modal-actions">{props.actions}</footer>
      </Show>
    </dialog>
  );
}
