// view_tags.mjs — kill (or revive) every flag with a tag at once: "kill
// everything tagged payments". The tags come from the flags' metadata; a
// preview (the same write as a dry run) shows exactly which flags would
// change before the operator confirms with a reason. Kills apply at once,
// even in a protected environment; revivals there become change requests.

import * as api from './api.mjs';
import { askReason } from './dialogs.mjs';
import { renderDiff } from './diff_view.mjs';
import { h, replace, replaceKeepingFocus } from './dom.mjs';
import { count } from './format.mjs';
import * as router from './router.mjs';
import { errorNotice, loading, notice, table, title } from './widgets.mjs';

const PREVIEW_REASON = 'console: preview (dry run, not stored)';

// {tag → {flags: [keys], killed: [keys]}} from the metadata.
function tagsOf(flags) {
  const tags = new Map();
  for (const f of flags) {
    for (const t of f.tags) {
      if (!tags.has(t)) tags.set(t, { flags: [], killed: [] });
      tags.get(t).flags.push(f.key);
      if (f.killed) tags.get(t).killed.push(f.key);
    }
  }
  return new Map([...tags].sort(([a], [b]) => a.localeCompare(b)));
}

export async function show(ctx) {
  const env = ctx.env;
  const list = h('div', null, loading('tags'));
  const preview = h('div', { class: 'preview' });
  let tags = new Map();

  async function showPreview(tag, kill) {
    const verb = kill ? 'kill' : 'revive';
    preview.replaceChildren(loading(`what ${verb} would change`));
    let dry;
    try {
      dry = (await api.post(api.envPath(env, 'tags', tag, verb), { reason: PREVIEW_REASON, dryRun: true })).data;
    } catch (error) {
      preview.replaceChildren(errorNotice(error));
      return;
    }
    const info = tags.get(tag) || { flags: [], killed: [] };
    const changing = dry.changed_keys;
    const heading = h('h2', { tabindex: '-1' }, `${kill ? 'Kill' : 'Revive'} everything tagged ${tag}`);
    const confirm = ctx.canWrite && changing.length ? h('button', {
      type: 'button', id: 'tag-confirm', class: ['button', 'button-large', kill ? 'button-danger' : 'button-primary'],
      on: {
        click: async () => {
          const answer = await askReason({
            title: `${kill ? 'Kill' : 'Revive'} ${count(changing.length, 'flag')} tagged ${tag}?`,
            intro: kill
              ? `${changing.join(', ')} serve their off variant at once, in one version.`
              : `${changing.join(', ')} go back to their rules and rollouts.`,
            confirm: `${kill ? 'Kill' : 'Revive'} ${count(changing.length, 'flag')}`,
            danger: kill,
            run: (reason) => api.post(api.envPath(env, 'tags', tag, verb), { reason }),
          });
          if (!answer) return;
          const done = answer.data.changed_keys || [];
          ctx.wrote(answer, `${kill ? 'Killed' : 'Revived'} ${done.join(', ')} (version ${answer.data.version}).`);
          preview.replaceChildren();
          await refresh();
        },
      },
    }, `${kill ? 'Kill' : 'Revive'} ${count(changing.length, 'flag')} tagged ${tag}…`) : null;
    const unchanged = info.flags.filter((k) => !changing.includes(k));
    replace(preview, h('section', { class: 'section' },
      heading,
      changing.length === 0
        ? notice('info', `Nothing to do: every flag tagged ${tag} already is ${kill ? 'killed' : 'live'}.`)
        : h('p', null, `This would ${verb} ${count(changing.length, 'flag')} in ${env}, as one version:`),
      renderDiff(dry.diff, dry.summary),
      unchanged.length ? h('p', { class: 'muted' }, `Unchanged (already ${kill ? 'killed' : 'live'}): ${unchanged.join(', ')}.`) : null,
      (dry.warnings || []).map((w) => notice('warn', w)),
      confirm));
    heading.focus();
  }

  async function refresh() {
    try {
      const { data } = await api.get(api.envPath(env, 'metadata'));
      tags = tagsOf(data.flags);
    } catch (error) {
      replaceKeepingFocus(list, errorNotice(error));
      return;
    }
    replaceKeepingFocus(list, tags.size === 0 ? notice('info', 'No flag in this environment has a tag.') :
      table(`Tags in ${env}`, ['Tag', 'Flags', 'Killed', 'Actions'], [...tags].map(([tag, info]) => [
        h('a', { href: router.href('flags', { env }, { tag }) }, tag),
        info.flags.join(', '),
        `${info.killed.length} of ${info.flags.length}`,
        ctx.canWrite ? h('span', { class: 'row-actions' },
          h('button', {
            type: 'button', class: 'button button-small button-danger-outline', dataset: { focus: `kill:${tag}` },
            on: { click: () => showPreview(tag, true) },
          }, `Preview kill of ${tag}`),
          h('button', {
            type: 'button', class: 'button button-small', dataset: { focus: `revive:${tag}` },
            on: { click: () => showPreview(tag, false) },
          }, `Preview revival of ${tag}`)) : '',
      ]), { className: 'tags-table' }));
  }

  ctx.root.append(title('Kill by tag'),
    h('p', null, 'Switch off every flag that carries a tag in one step — for example everything tagged payments when the payment provider is down. ',
      'Preview first: it shows exactly what would change, and nothing is stored until you confirm.'),
    list, preview);
  await refresh();
  return { refresh };
}
