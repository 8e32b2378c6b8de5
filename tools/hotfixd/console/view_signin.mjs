// view_signin.mjs — signing in with a token. Any token works; the console
// then offers what its scopes allow (read: look; write: change; approve:
// decide change requests) and nothing more, because the server checks the
// same token on every call.

import { h } from './dom.mjs';
import * as session from './session.mjs';
import { notice } from './widgets.mjs';

// show({message, next, signedIn}): the sign-in page; signedIn(next) is
// called once the server has accepted a token.
export function show({ message, next, signedIn }) {
  const token = h('input', {
    id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-hint', class: 'token-input',
  });
  const problem = h('div', { class: 'signin-problem' }, message ? notice('error', message) : null);
  const button = h('button', { type: 'submit', class: ['button', 'button-primary'] }, 'Sign in');
  const form = h('form', {
    class: 'signin', 'aria-labelledby': 'signin-title',
    on: {
      submit: async (event) => {
        event.preventDefault();
        const secret = token.value.trim();
        if (!secret) {
          problem.replaceChildren(notice('error', 'Paste a token first.'));
          token.focus();
          return;
        }
        button.disabled = true;
        try {
          await session.signIn(secret);
          signedIn(next);
        } catch (error) {
          problem.replaceChildren(notice('error', error.status === 401
            ? 'hotfixd does not accept that token. Check it, or ask for a new one.'
            : error.message));
          token.select();
        } finally {
          button.disabled = false;
        }
      },
    },
  },
  h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in to the hotfix console'),
  h('label', { for: 'token', class: 'label' }, 'Token'),
  h('p', { id: 'token-hint', class: 'hint' },
    'An admin token (hfa_…) or a read-only one (hfs_…) from hotfixctl tokens create. ',
    'It stays in this browser tab only, and is sent to this server only.'),
  token,
  problem,
  button);
  return h('div', { class: 'view view-narrow' }, form);
}
