// flag_editor.mjs — a flag edited as JSON. "Check" and "Save" first send the
// edit as a dry run, so the server's compiler — the one every SDK uses —
// judges it; its error is shown at the field it names (line, column, the
// line itself with the spot underlined, and a button that selects it), and
// a valid edit is shown as a diff before anything is stored. Saving sends
// If-Match with the version the edit started from: if anyone changed the
// environment since, the save is refused (412) and said so, never silently
// overwriting their change.

import * as api from './api.mjs';
import { askReason } from './dialogs.mjs';
import { renderDiff } from './diff_view.mjs';
import { h, replace, uid } from './dom.mjs';
import { explain } from './format.mjs';
import { compilerPath, find, parse, position } from './locate.mjs';
import { notice } from './widgets.mjs';

const PREVIEW_REASON = 'console: preview (dry run, not stored)';

// flagEditor(ctx, key, onSaved)
//
// Returns {element, load(flag, version)}: load() puts the flag into the
// editor unless the operator is in the middle of an edit, in which case it
// only notes that the environment moved on.
export function flagEditor(ctx, key, onSaved) {
  const areaId = uid('flag-json');
  const problemsId = uid('flag-json-problems');
  const area = h('textarea', {
    id: areaId, class: 'json', rows: '18', spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': problemsId, dataset: { focus: 'editor' },
  });
  const problems = h('div', { id: problemsId, class: 'editor-problems', 'aria-live': 'polite' });
  const state = { base: null, original: '', moved: null };

  const dirty = () => area.value !== state.original;
  const show = (...nodes) => replace(problems, ...nodes);

  // The error `message` about this flag, at its place in the text.
  const atField = (message, text, at) => {
    const where = position(text, at.start, at.end);
    area.setAttribute('aria-invalid', 'true');
    return notice('error',
      h('p', { class: 'error-where' }, `Line ${where.line}, column ${where.column}: ${message}`),
      h('pre', { class: 'error-excerpt' }, `${where.lineText}\n${' '.repeat(where.column - 1)}${'^'.repeat(where.width)}`),
      h('button', {
        type: 'button', class: 'button button-small',
        on: { click: () => { area.focus(); area.setSelectionRange(at.start, at.end); } },
      }, `Select it in the editor (line ${where.line})`));
  };

  // Checks the text locally (JSON) and then with the server (dry run).
  // Returns the dry run's answer, or null after showing what is wrong.
  const check = async () => {
    const text = area.value;
    const parsed = parse(text);
    if (!parsed.ok) {
      show(atField(`not valid JSON: ${parsed.message}`, text, { start: parsed.offset, end: parsed.offset + 1 }));
      return null;
    }
    try {
      const answer = await api.put(api.envPath(ctx.env, 'flags', key), {
        body: { flag: parsed.value }, reason: PREVIEW_REASON, dryRun: true, ifMatch: state.base,
      });
      area.removeAttribute('aria-invalid');
      return answer;
    } catch (error) {
      const { path, text: what } = compilerPath(error.message || '', key);
      if (error.status === 400 && path !== null) {
        const node = find(parsed.root, path);
        show(atField(what, text, { start: node.keyStart ?? node.start, end: node.end }));
      } else {
        show(notice('error', explain(error)));
      }
      return null;
    }
  };

  const checkButton = h('button', {
    type: 'button', class: 'button', dataset: { focus: 'editor-check' },
    on: {
      click: async () => {
        const answer = await check();
        if (answer) {
          show(notice('ok', answer.data.changed ? 'Valid. Saving would change:' : 'Valid, and the same as what is stored.'),
            answer.data.changed ? renderDiff(answer.data.diff, answer.data.summary) : null);
        }
      },
    },
  }, 'Check');

  const saveButton = h('button', {
    type: 'button', class: ['button', 'button-primary'], dataset: { focus: 'editor-save' },
    on: {
      click: async () => {
        const preview = await check();
        if (!preview) return;
        if (!preview.data.changed) {
          show(notice('info', 'Nothing to save: the edit is the same as what is stored.'));
          return;
        }
        show();
        const value = JSON.parse(area.value);
        const base = state.base;
        const answer = await askReason({
          title: `Save ${key}?`,
          intro: `Saves your edit as a new version of ${ctx.env}, if nobody changed it since version ${base}.`,
          content: renderDiff(preview.data.diff, preview.data.summary),
          confirm: 'Save',
          run: (reason) => api.put(api.envPath(ctx.env, 'flags', key), { body: { flag: value }, reason, ifMatch: base }),
        });
        if (!answer) return;
        ctx.wrote(answer, `Saved ${key} (version ${answer.data.version}).`);
        state.original = area.value;
        onSaved();
      },
    },
  }, 'Save…');

  const resetButton = h('button', {
    type: 'button', class: 'button', dataset: { focus: 'editor-reset' },
    on: { click: () => { state.moved = null; load(state.flag, state.latest, true); } },
  }, 'Discard edits');

  area.addEventListener('input', () => {
    const parsed = parse(area.value);
    if (parsed.ok) {
      area.removeAttribute('aria-invalid');
      if (!state.moved) show();
    }
  });

  const movedNote = h('div', { class: 'moved' });

  // load(flag, version, force): shows `flag` at `version` unless there is an
  // edit in progress (then notes the newer version instead).
  function load(flag, version, force = false) {
    state.flag = flag;
    state.latest = version;
    if (!force && state.base !== null && dirty()) {
      if (version !== state.base) {
        movedNote.replaceChildren(notice('warn',
          `The environment moved on to version ${version} since your edit started (version ${state.base}). `,
          'Saving will be refused; discard your edits to start again from the current flag.'));
      }
      return;
    }
    movedNote.replaceChildren();
    state.base = version;
    state.original = `${JSON.stringify(flag, null, 2)}\n`;
    area.value = state.original;
    area.removeAttribute('aria-invalid');
    show();
  }

  const element = h('details', { class: 'editor' },
    h('summary', null, 'Edit as JSON'),
    h('p', { class: 'muted' }, 'The flag as docs/flag-format.md describes it. Check asks the server\'s compiler; Save shows the change and asks for a reason.'),
    h('label', { for: areaId, class: 'label' }, `JSON of ${key}`),
    movedNote,
    area,
    problems,
    h('div', { class: 'actions' }, checkButton, saveButton, resetButton));
  return { element, load };
}
