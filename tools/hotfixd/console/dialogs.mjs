// dialogs.mjs — the one dialog every write goes through: what will happen,
// a reason (the API requires one; it is recorded with the change), and a
// confirm button. It is a native modal <dialog>: focus moves into it and
// stays there, Escape cancels, Enter in the reason field confirms — a kill
// is a click (or Enter), a reason, and Enter.

import { h, uid } from './dom.mjs';
import { explain } from './format.mjs';

// askReason()
//
// Opens the dialog and resolves to what `run(reason)` resolved to, or null
// if the operator cancelled. While `run` works the buttons are disabled; if
// it rejects, the dialog stays open and says why (a 412 conflict, a 403,
// the compiler's message), so the operator can change the reason, cancel,
// or try again.
//
// options: title, intro (text), content (nodes: a preview), confirm (the
// button's label), danger (a red button), run.
export function askReason({ title, intro, content = null, confirm, danger = false, run }) {
  const titleId = uid('dialog-title');
  const introId = uid('dialog-intro');
  const reasonId = uid('reason');
  const hintId = uid('reason-hint');
  const reason = h('input', {
    id: reasonId, type: 'text', required: true, maxlength: '1024', autocomplete: 'off',
    'aria-describedby': hintId, class: 'reason',
  });
  const problem = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
  const ok = h('button', { type: 'submit', class: ['button', danger ? 'button-danger' : 'button-primary'] }, confirm);
  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('h2', { id: titleId }, title),
    h('p', { id: introId }, intro),
    content,
    h('label', { for: reasonId, class: 'label' }, 'Reason'),
    h('p', { id: hintId, class: 'hint' }, 'Required. Recorded with the change in history and the audit log.'),
    reason,
    problem,
    h('div', { class: 'dialog-actions' }, cancel, ok));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': introId }, form);

  return new Promise((resolve) => {
    let result = null;
    const say = (text) => {
      problem.textContent = text;
      problem.hidden = !text;
    };
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        say('Give a reason: it is how the next person knows why this changed.');
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      reason.removeAttribute('aria-invalid');
      say('');
      ok.disabled = true;
      cancel.disabled = true;
      dialog.setAttribute('aria-busy', 'true');
      try {
        result = await run(text);
        dialog.close();
      } catch (error) {
        say(explain(error));
      } finally {
        ok.disabled = false;
        cancel.disabled = false;
        dialog.removeAttribute('aria-busy');
      }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    reason.focus();
  });
}
