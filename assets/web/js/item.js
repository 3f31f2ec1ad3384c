// Reading the current Outlook item through Office.js into the shapes the
// context and share APIs take.

const addr = (a) => (a ? { email: (a.emailAddress || '').trim(), name: a.displayName || '' } : null);
const addrs = (l) => (Array.isArray(l) ? l.map(addr).filter((a) => a && a.email) : []);

function cb(fn) {
  return new Promise((resolve) => {
    try { fn((r) => resolve(r && r.status === 'succeeded' ? r.value : null)); } catch { resolve(null); }
  });
}

// a property that is a value in read mode and an async getter in compose mode
async function prop(v) {
  if (v && typeof v.getAsync === 'function') return cb((done) => v.getAsync(done));
  return v;
}

export function mailbox() {
  return typeof Office !== 'undefined' && Office.context && Office.context.mailbox;
}

export function restId(id) {
  const mb = mailbox();
  if (!id || !mb || typeof mb.convertToRestId !== 'function') return id || '';
  try { return mb.convertToRestId(id, Office.MailboxEnums.RestVersion.v2_0); } catch { return id; }
}

// readItem returns {kind:'email'|'appointment', ...} or null when no item is selected.
export async function readItem() {
  const mb = mailbox();
  const it = mb && mb.item;
  if (!it) return null;
  const isAppt = it.itemType === 'appointment' || (typeof Office !== 'undefined' && Office.MailboxEnums && it.itemType === Office.MailboxEnums.ItemType.Appointment);
  const base = { itemId: restId(it.itemId), subject: (await prop(it.subject)) || '' };
  const me = mb.userProfile ? { email: mb.userProfile.emailAddress, name: mb.userProfile.displayName } : null;
  if (isAppt) {
    const organizer = addr(await prop(it.organizer));
    const start = await prop(it.start), end = await prop(it.end);
    const loc = await prop(it.location);
    return {
      ...base, kind: 'appointment', organizer, me,
      isOrganizer: !!(organizer && me && organizer.email.toLowerCase() === (me.email || '').toLowerCase()),
      attendees: [...addrs(await prop(it.requiredAttendees)), ...addrs(await prop(it.optionalAttendees))],
      start: start ? new Date(start).toISOString() : null, end: end ? new Date(end).toISOString() : null,
      location: loc || '', iCalUId: it.iCalUId || '',
    };
  }
  const from = addr(await prop(it.from)) || addr(it.sender);
  return {
    ...base, kind: 'email', me, from,
    to: addrs(await prop(it.to)), cc: addrs(await prop(it.cc)),
    internetMessageId: it.internetMessageId || '', conversationId: it.conversationId || '',
    sentAt: it.dateTimeCreated ? new Date(it.dateTimeCreated).toISOString() : null,
  };
}

export function body(kind) {
  const it = mailbox() && mailbox().item;
  if (!it || !it.body) return Promise.resolve('');
  return new Promise((resolve) => {
    try { it.body.getAsync(kind === 'text' ? Office.CoercionType.Text : Office.CoercionType.Html, (r) => resolve(r.status === 'succeeded' ? r.value : '')); } catch { resolve(''); }
  });
}

// contextQuery is the GET /context query for an item: the sender first,
// then recipients or attendees (up to 50 addresses).
export function contextQuery(item) {
  const emails = [];
  const add = (a) => { if (a && a.email && !emails.includes(a.email.toLowerCase())) emails.push(a.email.toLowerCase()); };
  if (item.kind === 'email') { add(item.from); item.to.forEach(add); item.cc.forEach(add); } else { add(item.organizer); item.attendees.forEach(add); }
  const q = { email: emails.slice(0, 50) };
  if (item.internetMessageId) q.internetMessageId = item.internetMessageId;
  if (item.iCalUId) q.iCalUId = item.iCalUId;
  return q;
}

// shareBody builds the share request of an item with the chosen associations.
export async function shareBody(item, associations, source) {
  if (item.kind === 'email') {
    return {
      internetMessageId: item.internetMessageId, conversationId: item.conversationId, itemId: item.itemId, source,
      subject: item.subject, bodyHtml: await body('html'), from: item.from, to: item.to, cc: item.cc,
      sentAt: item.sentAt, associations,
    };
  }
  return {
    iCalUId: item.iCalUId, itemId: item.itemId, source, subject: item.subject, bodyHtml: await body('html'),
    start: item.start, end: item.end, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, location: item.location,
    organizer: item.organizer, attendees: item.attendees, associations,
  };
}
