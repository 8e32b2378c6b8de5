// format.mjs — times, counts and the audit log's actions in words. Pure
// functions returning strings.

// "2026-03-02 14:05:09" in the browser's time zone, from an RFC 3339 time.
export function timeText(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
    `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

// "just now", "5 min ago", "3 h ago", "2 days ago"; "in 4 days" ahead.
export function agoText(iso, now = Date.now()) {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return '';
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let text;
  if (s < 45) return 'just now';
  if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86400) text = `${Math.round(s / 3600)} h`;
  else text = count(Math.round(s / 86400), 'day');
  return future ? `in ${text}` : `${text} ago`;
}

// "1 flag", "3 flags".
export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// The audit log's actions (docs/admin-api.md, "Audit log"), as the console
// names them.
export const ACTIONS = {
  'env.create': 'created the environment',
  'flags.replace': 'replaced the flag set',
  'flags.promote': 'promoted flags',
  'flag.create': 'created a flag',
  'flag.update': 'edited a flag',
  'flag.delete': 'deleted a flag',
  'flag.kill': 'killed',
  'flag.revive': 'revived',
  'tag.kill': 'killed by tag',
  'tag.revive': 'revived by tag',
  'flag.rollout': 'changed a rollout',
  'rollout.start': 'started a staged rollout',
  'guard.advance': 'advanced a staged rollout',
  'guard.rollback': 'rolled a staged rollout back',
  'guard.kill': 'killed (guard)',
  rollback: 'rolled back',
  'env.protect': 'protected the environment',
  'env.unprotect': 'lifted protection',
  'change.propose': 'proposed a change',
  'change.approve': 'approved a change',
  'change.reject': 'rejected a change',
  'change.expire': 'change expired',
  'webhook.add': 'added a webhook',
  'webhook.delete': 'deleted a webhook',
  'token.create': 'created a token',
  'token.revoke': 'revoked a token',
  'token.bootstrap': 'registered a start-up token',
};

export function actionText(action) {
  return ACTIONS[action] || action;
}

// explain()
//
// What an API error means for the operator, in a sentence. A 412 is the
// console's conflict message: someone else changed the environment after
// this page loaded it, and nothing was overwritten.
export function explain(error) {
  if (!error || error.status === undefined) return String(error && error.message ? error.message : error);
  switch (error.status) {
    case 0:
      return error.message;
    case 403:
      return `Not allowed: ${error.message}.`;
    case 412:
      return `Someone else changed this environment after you loaded it${
        error.version !== null ? ` (it is now at version ${error.version})` : ''
      }. Nothing was saved: look at the current state, then decide again.`;
    default:
      return error.message;
  }
}
