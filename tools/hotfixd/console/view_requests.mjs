// view_requests.mjs — change requests of a protected environment
// (docs/admin-api.md, "Approvals"): what awaits approval, with its diff,
// and the decisions already made. Someone with the approve scope approves
// or rejects (never their own); a proposer withdraws their own.

import * as api from './api.mjs';
import { askReason } from './dialogs.mjs';
import { renderDiff } from './diff_view.mjs';
import { h, replaceKeepingFocus } from './dom.mjs';
import { actionText, agoText, timeText } from './format.mjs';
import { badge, errorNotice, facts, loading, notice, title } from './widgets.mjs';

const TONES = { proposed: 'warn', applied: 'ok', rejected: 'muted', expired: 'muted' };

export async function show(ctx) {
  const env = ctx.env;
  const list = h('div', null, loading('change requests'));

  function decide(request, verb) {
    const own = request.proposer === ctx.me.name;
    return h('button', {
      type: 'button', class: ['button', 'button-small', verb === 'approve' ? 'button-primary' : null],
      dataset: { focus: `${verb}:${request.id}` },
      on: {
        click: async () => {
          const answer = await askReason({
            title: `${verb === 'approve' ? 'Approve' : own ? 'Withdraw' : 'Reject'} request ${request.id}?`,
            intro: verb === 'approve'
              ? `Applies ${request.proposer}'s change now, as ${request.proposer}, if ${env} has not moved on in a way that alters it.`
              : 'The change is not applied; the request is closed.',
            confirm: verb === 'approve' ? 'Approve and apply' : own ? 'Withdraw' : 'Reject',
            run: (reason) => api.post(api.envPath(env, 'requests', String(request.id), verb), { reason }),
          });
          if (!answer) return;
          ctx.toast(`Request ${request.id} ${answer.data.state}.`, 'ok');
          await refresh();
        },
      },
    }, verb === 'approve' ? 'Approve…' : own ? 'Withdraw…' : 'Reject…');
  }

  function card(r) {
    const own = r.proposer === ctx.me.name;
    const open = r.state === 'proposed';
    return h('article', { class: 'request', 'aria-labelledby': `request-${r.id}` },
      h('h2', { id: `request-${r.id}` }, `Request ${r.id}: ${actionText(r.action)} `, badge(r.state, TONES[r.state] || 'muted')),
      h('p', { class: 'reason' }, `“${r.reason}”`),
      facts([
        ['Proposed by', `${r.proposer}, ${timeText(r.created_at)} (${agoText(r.created_at)})`],
        ['Against version', `v${r.base_version}`],
        open ? ['Expires', `${timeText(r.expires_at)} (${agoText(r.expires_at)})`]
          : ['Decided by', r.decided_by ? `${r.decided_by}${r.comment ? `: “${r.comment}”` : ''}` : ''],
        r.applied_version !== null ? ['Applied as', `v${r.applied_version}`] : null,
      ].filter(Boolean)),
      h('details', { class: 'request-diff', open: open || null }, h('summary', null, 'What it changes'),
        renderDiff(r.diff, r.summary)),
      open ? h('div', { class: 'actions' },
        ctx.canApprove && !own ? decide(r, 'approve') : null,
        (ctx.canApprove || own) ? decide(r, 'reject') : null) : null);
  }

  async function refresh() {
    try {
      const { data } = await api.get(api.envPath(env, 'requests'), { query: { limit: 50 } });
      const open = data.requests.filter((r) => r.state === 'proposed');
      const closed = data.requests.filter((r) => r.state !== 'proposed');
      replaceKeepingFocus(list,
        data.protected ? null : notice('info', `${env} is not protected: changes apply at once, without requests. `,
          'hotfixctl env protect makes every change except kills wait for a second person.'),
        open.length ? open.map(card) : h('p', null, 'Nothing awaits approval.'),
        closed.length ? [h('h2', { class: 'subhead' }, 'Decided'), closed.map(card)] : null);
    } catch (error) {
      replaceKeepingFocus(list, errorNotice(error));
    }
  }

  ctx.root.append(title(`Change requests in ${env}`), list);
  await refresh();
  return { refresh };
}
