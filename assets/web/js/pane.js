// The task pane: connect, the context of the current email or meeting,
// sharing, contact creation, search / recent / favorites and sync.
import { api, apiStatus, describe, exchangeHandoff, loadMe, qs, refresh, session, ApiError } from './api.js';
import { readItem, contextQuery, shareBody, mailbox } from './item.js';
import { h, mount, debounce, when, money, announce } from './dom.js';

const $ = (id) => document.getElementById(id);
const view = () => $('view');
let current = null; // the item shown
let tab = 'context';

// ---------- theme ----------
function applyTheme() {
  const t = typeof Office !== 'undefined' && Office.context && Office.context.officeTheme;
  if (!t) return;
  const s = document.documentElement.style;
  if (t.bodyBackgroundColor) s.setProperty('--bg', t.bodyBackgroundColor);
  if (t.bodyForegroundColor) s.setProperty('--fg', t.bodyForegroundColor);
  if (t.controlBackgroundColor) s.setProperty('--card', t.controlBackgroundColor);
  if (t.controlForegroundColor) s.setProperty('--muted', t.controlForegroundColor);
}

// ---------- feedback ----------
function banner(kind, text, ...extra) {
  return h('div', { class: 'banner ' + kind, role: kind === 'error' ? 'alert' : 'status' }, h('p', { text }), ...extra);
}
function loading(label) {
  return h('div', { class: 'center', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ', label || 'Loading…');
}
// failure shows the error in words and, for network loss or server
// trouble, a Retry button: never a blank pane.
function failure(err, retry) {
  const b = banner('error', describe(err));
  b.dataset.code = err && err.code ? err.code : 'network';
  if (retry && (!err.status || err.status >= 500 || err.code === 'rate_limited')) b.append(h('button', { class: 'primary', onclick: retry }, 'Retry'));
  return b;
}
// markFields highlights the inputs named by a 400's fields.
function markFields(form, fields) {
  form.querySelectorAll('.invalid').forEach((el) => { el.classList.remove('invalid'); el.removeAttribute('aria-invalid'); });
  form.querySelectorAll('.field-error').forEach((el) => el.remove());
  let first = null;
  for (const [k, msg] of Object.entries(fields || {})) {
    const short = k.split('.').pop();
    const input = form.querySelector(`[data-field="${k}"]`) || form.querySelector(`[data-field$=".${short}"]`) || form.querySelector(`[data-field="${short}"]`);
    if (!input) continue;
    input.classList.add('invalid');
    input.setAttribute('aria-invalid', 'true');
    const id = input.id + '-err';
    input.setAttribute('aria-describedby', id);
    input.after(h('p', { class: 'field-error', id, text: msg }));
    first = first || input;
  }
  if (first) first.focus();
}

// ---------- connect ----------
function showConnect(reason) {
  $('who').textContent = '';
  $('tabs').hidden = true;
  const trusted = h('input', { type: 'checkbox', id: 'trusted' });
  const btn = h('button', { class: 'primary', id: 'connect', onclick: () => connect(trusted.checked) }, 'Connect');
  mount(view(),
    h('section', { 'aria-labelledby': 'connect-title' },
      h('h1', { id: 'connect-title' }, 'Connect to Sales'),
      h('p', {}, 'See the CRM context of your emails and meetings, and share them with one click.'),
      reason ? banner('error', typeof reason === 'string' ? reason : describe(reason)) : null,
      h('label', { class: 'check', for: 'trusted' }, trusted, 'This is a trusted device'),
      h('p', { class: 'muted' }, 'On a trusted device you stay connected for 30 days. Elsewhere the connection ends after 8 hours.'),
      h('div', { class: 'actions' }, btn)));
}

function connect(trusted) {
  const url = location.origin + '/connect/start?trusted=' + (trusted ? 'true' : 'false');
  if (!Office.context.ui || !Office.context.ui.displayDialogAsync) { location.href = url; return; }
  Office.context.ui.displayDialogAsync(url, { height: 60, width: 30, promptBeforeOpen: false }, (res) => {
    if (res.status !== 'succeeded') { showConnect('The sign-in window could not open. Allow pop-ups for Outlook and try again.'); return; }
    const dlg = res.value;
    dlg.addEventHandler(Office.EventType.DialogMessageReceived, async (arg) => {
      dlg.close();
      let msg;
      try { msg = JSON.parse(arg.message); } catch { msg = { status: 'error', message: 'The sign-in window sent an unreadable answer.' }; }
      if ((msg.status !== 'connected' && msg.status !== 'ok') || !msg.handoff) { showConnect(msg.message || 'Sign-in did not finish.'); return; }
      mount(view(), loading('Connecting…'));
      try {
        await exchangeHandoff(msg.handoff, trusted);
        await start();
      } catch (e) { showConnect(e); }
    });
    dlg.addEventHandler(Office.EventType.DialogEventReceived, (arg) => {
      if (arg.error === 12006) showConnect('Sign-in was cancelled.');
    });
  });
}

// ---------- shell ----------
function selectTab(name) {
  tab = name;
  document.querySelectorAll('#tabs [role=tab]').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)));
  ({ context: renderContext, search: renderSearch, recent: renderRecent, favorites: renderFavorites, sync: renderSync })[name]();
}

async function start() {
  const me = session.user && session.user.username ? session.user : await loadMe();
  $('who').textContent = me.displayName || me.username || '';
  $('tabs').hidden = false;
  syncBadge();
  loadFavorites();
  selectTab('context');
}

// ---------- context ----------
async function renderContext() {
  const v = view();
  performance.mark('context-start');
  mount(v, loading('Loading context…'));
  let item;
  try { item = await readItem(); } catch { item = null; }
  current = item;
  if (!item) { mount(v, banner('info', 'Select an email or meeting to see its sales context.')); return; }
  let ctx;
  try { ctx = await api('GET', '/context' + qs(contextQuery(item))); } catch (e) {
    if (tab === 'context' && current === item) mount(v, failure(e, renderContext));
    return;
  }
  if (current !== item || tab !== 'context') return; // the item changed meanwhile
  const people = (ctx.addresses || ctx.people || []).map(entry);
  // names from the email fill in for addresses the CRM does not know
  const names = {};
  [item.from, item.organizer, ...(item.to || []), ...(item.cc || []), ...(item.attendees || [])].forEach((a) => { if (a && a.name) names[a.email.toLowerCase()] = a.name; });
  people.forEach((p) => { if (!p.name) p.name = p.suggestedName || names[(p.email || '').toLowerCase()] || ''; });
  const main = item.kind === 'email' ? people.find((p) => item.from && p.email.toLowerCase() === item.from.email.toLowerCase()) || people[0] : null;
  const others = people.filter((p) => p !== main);
  mount(v,
    h('h1', { class: 'subject', text: item.subject || '(no subject)' }),
    shareBox(item, ctx, main, people),
    main ? personCard(main, true) : null,
    item.kind === 'appointment' ? h('h2', {}, 'Attendees') : null,
    others.length ? (item.kind === 'email'
      ? h('details', { id: 'recipients' }, h('summary', {}, `Recipients (${others.length})`), others.map((p) => personCard(p, false)))
      : others.map((p) => personCard(p, false))) : null);
  performance.mark('context-rendered');
  if (main && main.contact) loadConnections(main.contact.id);
  try { performance.measure('context', 'office-ready', 'context-rendered'); } catch { /* no office-ready mark */ }
  v.dataset.state = 'context';
  announce('Context loaded');
}

// entry turns a context entry into what the cards show.
function entry(e) {
  const list = (x) => (Array.isArray(x) ? x : (x && x.items) || []);
  return {
    ...e, name: e.name || (e.contact ? fullName(e.contact) : e.user ? e.user.displayName : ''),
    opportunities: list(e.opportunities).filter((o) => !o.status || o.status === 'open'),
    leads: list(e.leads), activities: list(e.lastActivities || e.activities), connections: e.connections || [],
  };
}

// loadConnections fills "Top connections" after the context is shown.
async function loadConnections(contactId) {
  const box = $('connections');
  if (!box) return;
  try {
    const r = await api('GET', `/contacts/${contactId}/connections` + qs({ limit: 3 }));
    const items = r.items || [];
    mount(box, items.length ? h('ul', { class: 'list' }, items.map((x) => h('li', {}, (x.user && x.user.displayName) || x.name,
      h('span', { class: 'muted' }, ` · ${x.count} interactions, last ${when(x.lastInteraction || x.lastAt)}`)))) : h('p', { class: 'muted' }, 'None'));
  } catch { mount(box, h('p', { class: 'muted' }, 'Not available right now.')); }
}

function fullName(c) { return [c.firstName, c.lastName].filter(Boolean).join(' ') || c.name || c.email; }

// favorites: the records the user starred ("type-id"), loaded once per
// session; stars drawn before it arrives are corrected when it does.
let favorites = null;
async function loadFavorites() {
  try {
    const r = await api('GET', '/favorites');
    favorites = new Set((r.items || []).map((x) => `${x.type}-${x.id}`));
  } catch { return; /* stars keep what the records said */ }
  document.querySelectorAll('button.star[data-star]').forEach((b) => pressStar(b, favorites.has(b.dataset.star)));
}

function pressStar(b, on) {
  b.setAttribute('aria-pressed', String(on));
  b.setAttribute('aria-label', (on ? 'Remove from' : 'Add to') + ' favorites');
}

function star(type, rec) {
  const key = `${type}-${rec.id}`;
  const b = h('button', { class: 'star', 'data-star': key }, '★');
  pressStar(b, favorites ? favorites.has(key) : !!rec.favorite);
  b.addEventListener('click', async () => {
    const on = b.getAttribute('aria-pressed') !== 'true';
    b.disabled = true;
    try {
      await api(on ? 'PUT' : 'DELETE', `/favorites/${type}/${rec.id}`);
      if (favorites) favorites[on ? 'add' : 'delete'](key);
      // every star of this record on the page follows
      document.querySelectorAll(`button.star[data-star="${key}"]`).forEach((x) => pressStar(x, on));
      announce(on ? 'Added to favorites' : 'Removed from favorites');
    } catch (e) { b.after(failure(e)); } finally { b.disabled = false; }
  });
  return b;
}

function personCard(p, primary) {
  const roleText = p.role ? h('span', { class: 'type' }, p.role, ' ') : null;
  if (p.kind === 'user') {
    return h('div', { class: 'card person', 'data-email': p.email }, roleText, h('h3', {}, p.name || p.email), h('p', { class: 'muted' }, 'Colleague · ', p.email));
  }
  if (p.kind !== 'contact' || !p.contact) {
    const create = h('button', { class: primary ? 'primary' : '', onclick: () => createContact(p) }, 'Create contact');
    return h('div', { class: 'card person unknown', 'data-email': p.email }, roleText, h('h3', {}, p.name || p.email),
      h('p', { class: 'muted' }, p.email, ' · not in Sales'), h('div', { class: 'actions' }, create));
  }
  const c = p.contact;
  const card = h('div', { class: 'card person', 'data-email': p.email, 'data-contact': c.id },
    roleText,
    h('div', { class: 'row' }, h('div', {}, h('h3', {}, fullName(c)), h('p', { class: 'muted' }, [c.jobTitle, p.account && p.account.name].filter(Boolean).join(' · '))), star('contact', c)),
    h('dl', {},
      c.phone ? [h('dt', {}, 'Phone'), h('dd', {}, h('a', { href: 'tel:' + c.phone }, c.phone))] : null,
      h('dt', {}, 'Email'), h('dd', {}, c.email || p.email),
      p.account ? [h('dt', {}, 'Account'), h('dd', {}, p.account.name, ' ', star('account', p.account))] : null));
  if (!primary) return h('details', { class: 'card person', 'data-email': p.email }, h('summary', {}, fullName(c), p.account ? ' · ' + p.account.name : ''), card);
  const opps = p.opportunities || [], leads = p.leads || [], acts = p.activities || [], conns = p.connections || [];
  return h('div', {}, card,
    h('h2', {}, 'Open opportunities'),
    opps.length ? h('ul', { class: 'list', id: 'opportunities' }, opps.map((o) => h('li', {}, h('strong', {}, o.name), h('div', { class: 'muted' }, [o.stage, money(o.amountCents, o.currency), o.closeDate && 'closes ' + when(o.closeDate)].filter(Boolean).join(' · '))))) : h('p', { class: 'muted' }, 'None'),
    h('h2', {}, 'Leads'),
    leads.length ? h('ul', { class: 'list', id: 'leads' }, leads.map((l) => h('li', {}, h('strong', {}, l.name), h('div', { class: 'muted' }, l.status)))) : h('p', { class: 'muted' }, 'None'),
    h('h2', {}, 'Last activities'),
    acts.length ? h('ul', { class: 'list', id: 'activities' }, acts.map((a) => h('li', {}, h('span', { class: 'type' }, (a.type || '').replace('_', ' ').toLowerCase()), ' ', a.subject, h('div', { class: 'muted' }, when(a.at || a.startAt))))) : h('p', { class: 'muted' }, 'None'),
    h('h2', {}, 'Top connections'), h('div', { id: 'connections' }, conns.length ? null : h('span', { class: 'spinner', 'aria-label': 'Loading' })));
}

// ---------- share ----------
function activityLink(s) {
  const id = s.id || s.activityId;
  return h('button', { class: 'link', id: 'shared-link', 'data-activity': id, onclick: () => showActivity(id) }, 'Open the activity');
}

// showActivity shows a shared activity in the pane, with its associations.
async function showActivity(id) {
  mount(view(), loading());
  const back = h('button', { onclick: renderContext }, 'Back');
  try {
    const a = await api('GET', `/activities/${id}`);
    mount(view(), h('h1', {}, a.subject || '(no subject)'),
      h('p', { class: 'muted' }, (a.type || '').replace('_', ' ').toLowerCase(), a.start ? ' · ' + when(a.start) : ''),
      h('h2', {}, 'Participants'), h('ul', { class: 'list' }, (a.participants || []).map((p) => h('li', {}, h('span', { class: 'type' }, p.role), ' ', p.name || p.email))),
      h('h2', {}, 'Related to'), h('ul', { class: 'list', id: 'activity-associations' }, (a.associations || []).map((x) => h('li', {}, h('span', { class: 'type' }, x.type), ' #', x.id))),
      h('div', { class: 'actions' }, back));
  } catch (e) { mount(view(), failure(e, () => showActivity(id)), back); }
}

function shareBox(item, ctx, main, all) {
  if (ctx.shared && ctx.shared.activityId) {
    return h('div', { id: 'share-box' }, banner('ok', 'Shared with Sales.', activityLink(ctx.shared)));
  }
  // defaults: the sender's contact and account; its opportunities and leads to tick
  const opts = [];
  const add = (type, rec, label, checked) => { if (rec && rec.id && !opts.find((o) => o.type === type && o.id === rec.id)) opts.push({ type, id: rec.id, label, checked }); };
  const people = item.kind === 'email' ? [main].filter(Boolean) : all;
  for (const p of people) {
    if (p.kind !== 'contact' || !p.contact) continue;
    add('contact', p.contact, fullName(p.contact), true);
    add('account', p.account, p.account && p.account.name, true);
    (p.opportunities || []).forEach((o) => add('opportunity', o, o.name, false));
    (p.leads || []).forEach((l) => add('lead', l, l.name, false));
  }
  const list = h('ul', { class: 'list', id: 'assoc-list' });
  const row = (o) => {
    const id = `assoc-${o.type}-${o.id}`;
    const cb = h('input', { type: 'checkbox', id, checked: o.checked, onchange: () => { o.checked = cb.checked; } });
    return h('li', {}, h('label', { class: 'check', for: id }, cb, h('span', { class: 'type' }, o.type), ' ', o.label));
  };
  opts.forEach((o) => list.append(row(o)));
  const find = h('input', { type: 'search', id: 'assoc-search', placeholder: 'Search to add accounts, opportunities, leads…', 'aria-label': 'Search records to associate' });
  const found = h('ul', { class: 'list', id: 'assoc-found' });
  find.addEventListener('input', debounce(async () => {
    const q = find.value.trim();
    if (q.length < 2) { mount(found); return; }
    try {
      const r = await api('GET', '/search' + qs({ q, limit: 5 }));
      mount(found, (r.items || []).map((x) => h('li', {}, h('button', { class: 'link', onclick: () => { const o = { type: x.type, id: x.id, label: x.name, checked: true }; if (!opts.find((y) => y.type === o.type && y.id === o.id)) { opts.push(o); list.append(row(o)); } mount(found); find.value = ''; } }, '+ ', h('span', { class: 'type' }, x.type), ' ', x.name))));
    } catch (e) { mount(found, failure(e)); }
  }, 250));
  const extra = h('div', { id: 'mandatory' });
  const status = h('div', { id: 'share-status', 'aria-live': 'polite' });
  const btn = h('button', { class: 'primary', id: 'share' }, item.kind === 'email' ? 'Share email' : 'Share appointment');
  const form = h('form', { id: 'share-form', novalidate: true }, h('h2', {}, 'Share with Sales'), list, find, found, extra, h('div', { class: 'actions' }, btn), status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    mount(status, loading('Sharing…'));
    try {
      const req = await shareBody(item, opts.filter((o) => o.checked).map((o) => ({ type: o.type, id: o.id })), 'pane');
      // mandatory fields of advanced sharing mode travel as share properties
      extra.querySelectorAll('[data-field]').forEach((i) => { if (i.value.trim()) req[i.dataset.field] = i.value.trim(); });
      const { status: code, data: res } = await apiStatus('POST', item.kind === 'email' ? '/shares/email' : '/shares/appointment', req);
      // 200: the item was already shared (by this user elsewhere, or a colleague)
      const text = code === 200 ? 'Already shared with Sales.' : 'Shared with Sales.';
      mount($('share-box'), banner('ok', text, activityLink(res)));
      announce(text);
    } catch (e) {
      btn.disabled = false;
      if (e.code === 'invalid_argument' && Object.keys(e.fields).length) {
        // advanced sharing mode: ask for the mandatory fields the server named
        for (const [name, msg] of Object.entries(e.fields)) {
          if (!extra.querySelector(`[data-field="${name}"]`)) {
            const id = 'mf-' + name.replace(/\W/g, '-');
            const label = name.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
            extra.append(h('label', { for: id }, label, h('span', { class: 'req' }, ' *')), h('input', { id, 'data-field': name, required: true }));
          }
          void msg;
        }
        mount(status);
        markFields(form, e.fields);
        status.append(banner('error', describe(e)));
      } else mount(status, failure(e, () => form.requestSubmit()));
    }
  });
  return h('div', { id: 'share-box' }, form);
}

// ---------- create contact ----------
const COUNTRIES = [['US', 'United States'], ['GB', 'United Kingdom'], ['DE', 'Germany'], ['FR', 'France'], ['ES', 'Spain'], ['IT', 'Italy'], ['NL', 'Netherlands'], ['CA', 'Canada'], ['AU', 'Australia'], ['JP', 'Japan'], ['CH', 'Switzerland'], ['AT', 'Austria'], ['BR', 'Brazil'], ['IN', 'India']];

function guessCountry() {
  const l = (Office.context && Office.context.displayLanguage) || navigator.language || 'en-US';
  const cc = (l.split('-')[1] || '').toUpperCase();
  return COUNTRIES.find((c) => c[0] === cc) ? cc : 'US';
}

async function addressFields(box, cc) {
  mount(box, loading('Loading address format…'));
  try {
    const f = await api('GET', '/address-formats/' + encodeURIComponent(cc));
    mount(box, (f.fields || []).map((fl) => {
      const key = fl.key || fl.name, id = 'addr-' + key;
      const attrs = { id, 'data-field': 'primaryAddress.' + key, 'data-addr': key, required: !!fl.required, autocomplete: 'off' };
      let input;
      if (key === 'region' && (f.regions || []).length) input = h('select', attrs, h('option', { value: '' }, '—'), f.regions.map((r) => h('option', { value: r.key }, r.name)));
      else if (key === 'lines') input = h('textarea', { ...attrs, rows: 2 });
      else input = h('input', { ...attrs, placeholder: key === 'postalCode' && f.postalExamples && f.postalExamples[0] ? 'e.g. ' + f.postalExamples[0] : '' });
      return [h('label', { for: id }, fl.label, fl.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), input];
    }));
    box.dataset.country = cc;
  } catch (e) { mount(box, failure(e, () => addressFields(box, cc))); }
}

function createContact(p) {
  const parts = (p.name || '').trim().split(/\s+/);
  const input = (name, label, value, req) => [h('label', { for: 'c-' + name }, label, req ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), h('input', { id: 'c-' + name, 'data-field': name, value: value || '', required: !!req })];
  const country = h('select', { id: 'c-country', 'data-field': 'primaryAddress.country' }, COUNTRIES.map(([cc, n]) => h('option', { value: cc }, n)));
  const addrBox = h('div', { id: 'address-fields' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'contact-form', novalidate: true },
    h('h1', {}, 'Create contact'),
    input('firstName', 'First name', parts.length > 1 ? parts.slice(0, -1).join(' ') : parts[0], true),
    input('lastName', 'Last name', parts.length > 1 ? parts[parts.length - 1] : '', true),
    input('email', 'Email', p.email, true), input('jobTitle', 'Job title'), input('phone', 'Phone'),
    h('h2', {}, 'Primary address'), h('label', { for: 'c-country' }, 'Country'), country, addrBox,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Save'), h('button', { type: 'button', onclick: renderContext }, 'Cancel')), status);
  country.value = guessCountry();
  country.addEventListener('change', () => addressFields(addrBox, country.value));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const addr = { country: country.value };
    const body = { primaryAddress: addr };
    form.querySelectorAll('[data-field]').forEach((i) => {
      const v = i.value.trim();
      if (!v) return;
      if (i.dataset.addr === 'lines') addr.lines = v.split('\n').map((l) => l.trim()).filter(Boolean);
      else if (i.dataset.addr) addr[i.dataset.addr] = v;
      else if (!i.dataset.field.startsWith('primaryAddress.')) body[i.dataset.field] = v;
    });
    mount(status, loading('Saving…'));
    try {
      await api('POST', '/contacts', body);
      announce('Contact created');
      renderContext();
    } catch (e) {
      mount(status, e.code === 'conflict' ? banner('error', 'This contact already exists in Sales.') : failure(e));
      if (e.code === 'invalid_argument') markFields(form, e.fields);
    }
  });
  mount(view(), form);
  addressFields(addrBox, country.value);
  form.querySelector('input').focus();
}

// ---------- search / recent / favorites ----------
function recordDetail(x) {
  if (x.detail) return x.detail;
  if (x.action) return `${x.action} ${when(x.at)}`;
  return x.owned ? 'Yours' : '';
}

function recordItem(x) {
  return h('li', { 'data-record': `${x.type}-${x.id}` }, h('div', { class: 'row' },
    h('div', {}, h('span', { class: 'type' }, x.type), ' ', h('strong', {}, x.name), recordDetail(x) ? h('div', { class: 'muted' }, recordDetail(x)) : null),
    x.type !== 'activity' ? star(x.type, x) : null));
}

function renderSearch() {
  const box = h('input', { type: 'search', id: 'search-box', placeholder: 'Search accounts, contacts, leads, opportunities', 'aria-label': 'Search', autocomplete: 'off' });
  const results = h('div', { id: 'search-results', 'aria-live': 'polite' });
  let seq = 0;
  const run = async (cursor, list) => {
    const q = box.value.trim();
    const mine = ++seq;
    if (q.length < 2) { mount(results); return; }
    if (!cursor) mount(results, loading('Searching…'));
    try {
      const r = await api('GET', '/search' + qs({ q, cursor }));
      if (mine !== seq) return;
      const ul = list || h('ul', { class: 'list' });
      (r.items || []).forEach((x) => ul.append(recordItem(x)));
      mount(results, (r.items || []).length || list ? ul : h('p', { class: 'muted' }, 'No matches.'),
        r.nextCursor ? h('button', { class: 'link', onclick: () => run(r.nextCursor, ul) }, 'More') : null);
    } catch (e) { if (mine === seq) mount(results, failure(e, () => run(cursor, list))); }
  };
  box.addEventListener('input', debounce(() => run(), 250));
  mount(view(), h('h1', {}, 'Search'), box, results);
  box.focus();
}

async function renderBatches(title, path, id) {
  const ul = h('ul', { class: 'list', id });
  const more = h('div', {});
  mount(view(), h('h1', {}, title), ul, more);
  const load = async (cursor) => {
    mount(more, loading());
    try {
      const r = await api('GET', path + qs({ cursor }));
      if (path === '/favorites') {
        // stars elsewhere learn of favorites added in another session
        favorites = favorites || new Set();
        (r.items || []).forEach((x) => favorites.add(`${x.type}-${x.id}`));
      }
      (r.items || []).forEach((x) => ul.append(recordItem(path === '/favorites' ? { ...x, favorite: true } : x)));
      if (!ul.children.length) ul.replaceWith(h('p', { class: 'muted', id }, title === 'Favorites' ? 'Star records to find them here.' : 'Nothing yet.'));
      mount(more, r.nextCursor ? h('button', { id: id + '-more', onclick: () => load(r.nextCursor) }, 'More') : null);
    } catch (e) { mount(more, failure(e, () => load(cursor))); }
  };
  await load();
}
const renderRecent = () => renderBatches('Recent', '/recent', 'recent-list');
const renderFavorites = () => renderBatches('Favorites', '/favorites', 'favorites-list');

// ---------- sync ----------
async function syncBadge() {
  try {
    const r = await api('GET', '/sync/conflicts');
    const n = (r.conflicts || []).length;
    const b = $('conflicts-badge');
    b.textContent = n; b.hidden = !n;
    b.setAttribute('aria-label', `${n} sync conflicts`);
  } catch { /* the badge is optional */ }
}

const STATES = { enabled: 'Sync is on.', suspended: 'Sync is suspended by your administrator.', disabled: 'Sync is turned off by your administrator.', needs_review: 'Sync is paused for review: it would have deleted many records. Your administrator has been told.', not_connected: 'Connect your Outlook account to sync.' };

async function renderSync() {
  const v = view();
  mount(v, loading());
  let s;
  try { s = await api('GET', '/sync/status'); } catch (e) { mount(v, h('h1', {}, 'Sync'), failure(e, renderSync)); return; }
  const last = s.running || s.lastRun;
  const run = h('button', { class: 'primary', id: 'sync-now' }, 'Sync now');
  const msg = h('div', { 'aria-live': 'polite' });
  run.addEventListener('click', async () => {
    run.disabled = true;
    try { await api('POST', '/sync/run', {}); mount(msg, banner('ok', 'Sync started. It runs in the background.')); } catch (e) { mount(msg, failure(e)); } finally { run.disabled = false; }
  });
  const conflicts = h('div', { id: 'conflicts' });
  mount(v, h('h1', {}, 'Sync'),
    h('p', { id: 'sync-status' }, last ? `${s.running ? 'Running since' : 'Last run'} ${when(last.startedAt)} ${new Date(last.startedAt).toLocaleTimeString()}: ${(last.status || '').replace(/_/g, ' ')}` : 'Not synced yet.'),
    STATES[s.state] && s.state !== 'enabled' ? banner('info', STATES[s.state]) : null,
    s.authorized === false ? banner('error', 'Outlook access has expired. Connect again so sync can run.') : null,
    h('div', { class: 'actions' }, run), msg, conflicts);
  renderConflicts(conflicts);
}

async function renderConflicts(box) {
  let r;
  try { r = await api('GET', '/sync/conflicts'); } catch (e) { mount(box, failure(e, () => renderConflicts(box))); return; }
  const items = r.conflicts || [];
  if (!items.length) { mount(box, h('p', { class: 'muted' }, 'No conflicts.')); return; }
  mount(box, h('h2', {}, `Conflicts (${items.length})`), items.map((c) => {
    const names = Object.keys(c.fields || {});
    const rows = names.map((name) => {
      const f = c.fields[name], n = `cf-${c.id}-${name}`;
      const label = name.replace(/([A-Z])/g, ' $1').replace(/^./, (x) => x.toUpperCase());
      return h('tr', {}, h('th', { scope: 'row' }, label),
        h('td', {}, h('label', { class: 'check' }, h('input', { type: 'radio', name: n, value: 'server', checked: true }), f.server || '(empty)')),
        h('td', {}, h('label', { class: 'check' }, h('input', { type: 'radio', name: n, value: 'client' }), f.client || '(empty)')));
    });
    const form = h('form', { class: 'card conflict', 'data-conflict': c.id },
      h('h3', {}, `${c.objectType.replace(/^./, (x) => x.toUpperCase())} #${c.crmId}`, h('span', { class: 'muted' }, ' · ' + when(c.createdAt))),
      h('table', { class: 'conflict' }, h('thead', {}, h('tr', {}, h('th', {}, 'Field'), h('th', {}, 'Sales'), h('th', {}, 'Outlook'))), h('tbody', {}, rows)),
      h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Resolve')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fields = {};
      names.forEach((name) => { fields[name] = form.querySelector(`input[name="cf-${c.id}-${name}"]:checked`).value; });
      try {
        await api('POST', `/sync/conflicts/${c.id}/resolve`, { choice: 'fields', fields });
        form.replaceWith(banner('ok', 'Resolved. The next sync applies your choice.'));
        syncBadge();
      } catch (e) { form.append(failure(e)); }
    });
    return form;
  }));
}

// ---------- boot ----------
function shell() {
  document.querySelectorAll('#tabs [role=tab]').forEach((b) => b.addEventListener('click', () => selectTab(b.dataset.tab)));
  $('tabs').addEventListener('keydown', (e) => {
    const tabs = [...document.querySelectorAll('#tabs [role=tab]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0 || (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft')) return;
    const n = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    n.focus(); selectTab(n.dataset.tab);
  });
}

async function boot() {
  performance.mark('office-ready');
  applyTheme();
  shell();
  session.onSignedOut((reason) => showConnect(reason));
  const mb = mailbox();
  // pinned pane: a new item reloads the context without a page reload
  if (mb && mb.addHandlerAsync) mb.addHandlerAsync(Office.EventType.ItemChanged, () => { if (session.signedIn) selectTab('context'); });
  if (!session.storedRefresh()) { showConnect(); return; }
  mount(view(), loading('Signing in…'));
  try {
    await refresh();
    await start();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'network') mount(view(), failure(e, boot));
    else showConnect(e.status === 401 ? 'Your connection has ended. Connect again.' : e);
  }
}

if (typeof Office !== 'undefined' && Office.onReady) Office.onReady(boot);
else document.addEventListener('DOMContentLoaded', () => mount(view(), banner('error', 'Open SalesBridge from Outlook: Office.js did not load.')));
