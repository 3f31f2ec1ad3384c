// The ribbon's function file: "Share with Sales" shares the current email
// or meeting with the default associations and reports the result as an
// Outlook notification message. event.completed() is always called.
import { api, apiStatus, describe, refresh, session, qs } from './api.js';
import { readItem, contextQuery, shareBody, mailbox } from './item.js';

function notify(kind, message) {
  return new Promise((resolve) => {
    const it = mailbox() && mailbox().item;
    if (!it || !it.notificationMessages) { resolve(); return; }
    const E = Office.MailboxEnums.ItemNotificationMessageType;
    const msg = kind === 'error'
      ? { type: E.ErrorMessage, message: message.slice(0, 150) }
      : { type: E.InformationalMessage, message: message.slice(0, 150), icon: 'Icon.16x16', persistent: false };
    try { it.notificationMessages.replaceAsync('salesbridge-share', msg, () => resolve()); } catch { resolve(); }
  });
}

// defaultAssociations: the sender's (or attendees') contacts and accounts.
export function defaultAssociations(item, ctx) {
  const out = [];
  const add = (type, rec) => { if (rec && rec.id && !out.find((o) => o.type === type && o.id === rec.id)) out.push({ type, id: rec.id }); };
  let people = ctx.addresses || ctx.people || [];
  if (item.kind === 'email' && item.from) people = people.filter((p) => p.email.toLowerCase() === item.from.email.toLowerCase());
  for (const p of people) {
    if (p.kind !== 'contact' || !p.contact) continue;
    add('contact', p.contact); add('account', p.account);
  }
  return out;
}

export async function shareItem(event) {
  try {
    if (!session.storedRefresh()) {
      await notify('error', 'Open the SalesBridge pane and connect on a trusted device to share from the ribbon.');
      return;
    }
    await refresh();
    const item = await readItem();
    if (!item) { await notify('error', 'Select an email or meeting to share.'); return; }
    if (item.kind === 'email' && !item.internetMessageId) { await notify('error', 'Save or send this email before sharing it.'); return; }
    const ctx = await api('GET', '/context' + qs(contextQuery(item)));
    if (ctx.shared && ctx.shared.activityId) { await notify('info', 'Already shared with Sales.'); return; }
    const req = await shareBody(item, defaultAssociations(item, ctx), 'ribbon');
    const res = await apiStatus('POST', item.kind === 'email' ? '/shares/email' : '/shares/appointment', req);
    await notify('info', res.status === 200 ? 'Already shared with Sales.' : 'Shared with Sales.');
  } catch (e) {
    await notify('error', e.code === 'unauthenticated' ? 'Your connection has ended. Open the SalesBridge pane and connect again.'
      : e.code === 'invalid_argument' && Object.keys(e.fields || {}).length ? 'Sharing needs more details: open the SalesBridge pane to share this item.'
        : 'Not shared: ' + describe(e));
  } finally {
    if (event && typeof event.completed === 'function') event.completed();
  }
}

window.shareItem = shareItem;
if (typeof Office !== 'undefined') {
  Office.onReady(() => {
    if (Office.actions && Office.actions.associate) Office.actions.associate('shareItem', shareItem);
  });
}
