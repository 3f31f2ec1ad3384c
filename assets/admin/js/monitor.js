// Office 365 Monitor: cards, run chart, user table with search, paging and
// multi-select actions, and a user's last runs with their record decisions.
import { get, post, status } from './api.js';
import { renderChart } from './chart.js';

const cardDefs = [
  ['failed', 'Last Sync Failed', 'lastSyncFailed'],
  ['never_synced', 'Never Synced', 'neverSynced'],
  ['in_progress', 'In Progress', 'inProgress'],
  ['succeeded', 'Last Sync Succeeded', 'lastSyncSucceeded'],
  ['needs_review', 'Needs review', null],
];

const state = { card: '', q: '', cursors: [''], page: 0, next: '' };
let searchTimer;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function ms(n) { return n == null ? '' : n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`; }
function when(t) { return t ? new Date(t).toLocaleString() : ''; }

async function loadCards() {
  const r = await get('/admin/monitor');
  const root = document.getElementById('cards');
  root.replaceChildren(...cardDefs.map(([id, label, key]) => {
    const n = key ? r.cards[key] : r.needsReview;
    const b = el('button', { type: 'button', class: `card ${id}${state.card === id ? ' selected' : ''}`, 'data-card': id },
      el('span', { class: 'n', text: String(n) }), label);
    b.addEventListener('click', () => {
      state.card = state.card === id ? '' : id;
      resetPaging();
      loadCards();
      loadUsers();
    });
    return b;
  }));
}

function resetPaging() { state.cursors = ['']; state.page = 0; }

function selected() {
  return [...document.querySelectorAll('#monitor-table tbody input[type=checkbox]:checked')].map((c) => Number(c.value));
}

async function loadUsers() {
  const q = new URLSearchParams({ limit: '25' });
  if (state.card) q.set('card', state.card);
  if (state.q) q.set('q', state.q);
  const cursor = state.cursors[state.page];
  if (cursor) q.set('cursor', cursor);
  const r = await get('/admin/monitor/users?' + q);
  state.next = r.nextCursor;
  const body = document.querySelector('#monitor-table tbody');
  body.replaceChildren(...r.users.map((u) => {
    const link = el('a', { href: '#monitor', 'data-user': String(u.userId), text: u.user || u.username });
    link.addEventListener('click', (ev) => { ev.preventDefault(); showRuns(u); });
    const d = u.duration;
    return el('tr', { 'data-user-id': String(u.userId) },
      el('td', {}, el('input', { type: 'checkbox', value: String(u.userId), 'aria-label': 'Select ' + u.username })),
      el('td', { class: 'last-' + u.last, title: u.lastError, text: u.last.replaceAll('_', ' ') }),
      el('td', {}, link),
      el('td', { text: u.office365User }),
      el('td', { text: when(u.lastSyncStart) }),
      el('td', { text: d ? `${ms(d.totalMs)} / ${ms(d.office365Ms)} / ${ms(d.crmMs)}` : '' }),
      el('td', { class: 'active', text: u.active ? 'Yes' : `No (${u.syncState})` }),
      el('td', { title: u.authError, text: u.authorized ? 'Yes' : 'No' }));
  }));
  if (!r.users.length) body.append(el('tr', {}, el('td', { colspan: 8, text: 'No users.' })));
  document.getElementById('select-all').checked = false;
  document.getElementById('prev-page').disabled = state.page === 0;
  document.getElementById('next-page').disabled = !state.next;
  document.getElementById('monitor-table').dataset.loaded = 'true';
}

async function loadChart() {
  const r = await get('/admin/monitor/history?days=14');
  renderChart(document.getElementById('chart'), r.days);
}

async function showRuns(u) {
  const sec = document.getElementById('user-runs');
  document.getElementById('runs-user').textContent = `${u.user} (${u.office365User})`;
  const list = document.getElementById('runs-list');
  const r = await get(`/admin/monitor/users/${u.userId}/runs?limit=10`);
  list.replaceChildren(...r.runs.map((run) => {
    const d = run.duration;
    const rows = run.decisions.map((x) => el('tr', {},
      el('td', { text: x.objectType }), el('td', { text: x.direction.replace('to_o365', '→ Office 365').replace('to_crm', '→ CRM') }),
      el('td', { text: x.outcome }), el('td', { text: x.crmId == null ? '' : String(x.crmId) }), el('td', { text: x.message })));
    return el('div', { class: 'runs-run' },
      el('strong', { text: `${when(run.startedAt)} — ${run.status.replaceAll('_', ' ')} (${run.trigger})` }),
      el('span', { class: 'note', text: d ? `${ms(d.totalMs)}: Office 365 ${ms(d.office365Ms)}, CRM ${ms(d.crmMs)}` : 'unfinished' }),
      run.error ? el('p', { class: 'error', text: run.error }) : '',
      rows.length ? el('table', {}, el('thead', {}, el('tr', {}, ...['Type', 'Direction', 'Decision', 'CRM id', 'Message'].map((h) => el('th', { text: h })))), el('tbody', {}, ...rows))
        : el('p', { class: 'note', text: 'No record decisions.' }));
  }));
  if (!r.runs.length) list.append(el('p', { text: 'No runs yet.' }));
  sec.hidden = false;
}

async function act(action) {
  const ids = selected();
  if (!ids.length) { status('Select at least one user first.', true); return; }
  try {
    const r = await post('/admin/monitor/actions', { action, userIds: ids });
    const done = r.results.filter((x) => x.applied).length;
    const skipped = r.results.filter((x) => !x.applied).map((x) => `user ${x.userId}: ${x.message}`);
    // Report once the table shows the new states.
    await Promise.all([loadCards(), loadUsers()]);
    status(`${action}: applied to ${done} of ${r.results.length} user(s).${skipped.length ? ' ' + skipped.join('; ') : ''}`, done === 0);
  } catch (e) {
    status(e.message, true);
  }
}

export function initMonitor() {
  document.querySelectorAll('[data-action]').forEach((b) => b.addEventListener('click', () => act(b.dataset.action)));
  document.getElementById('select-all').addEventListener('change', (ev) => {
    document.querySelectorAll('#monitor-table tbody input[type=checkbox]').forEach((c) => { c.checked = ev.target.checked; });
  });
  document.getElementById('monitor-search').addEventListener('input', (ev) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.q = ev.target.value.trim(); resetPaging(); loadUsers(); }, 250);
  });
  document.getElementById('next-page').addEventListener('click', () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page++;
    loadUsers();
  });
  document.getElementById('prev-page').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page--;
    loadUsers();
  });
}

export async function showMonitor() {
  try {
    await Promise.all([loadCards(), loadUsers(), loadChart()]);
  } catch (e) {
    status(e.message, true);
  }
}
