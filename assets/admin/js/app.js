// Entry point of the admin pages: sign-in, navigation between Manage
// Office 365 and the Office 365 Monitor.
import { get, post, request, setToken, token, status, showErrors, APIError } from './api.js';
import { initManage, showManage } from './manage.js';
import { initMonitor, showMonitor } from './monitor.js';

const pages = { manage: showManage, monitor: showMonitor };

function $(id) { return document.getElementById(id); }

function showSignin(msg) {
  document.querySelectorAll('.page').forEach((p) => { p.hidden = true; });
  $('nav').hidden = true;
  $('signin').hidden = false;
  if (msg) status(msg, true);
}

async function route() {
  if (!token()) { showSignin(); return; }
  let me;
  try {
    me = await get('/me');
  } catch (e) {
    if (e instanceof APIError && e.status === 401) { setToken(''); showSignin('Your session ended: sign in again.'); return; }
    status(e.message, true);
    return;
  }
  if ((me.role || me.user.role) !== 'admin') { showSignin('Administration needs the administrator role.'); return; }
  $('signin').hidden = true;
  $('nav').hidden = false;
  const name = (location.hash || '#manage').slice(1);
  const page = pages[name] ? name : 'manage';
  document.querySelectorAll('.page').forEach((p) => { p.hidden = p.id !== 'page-' + page; });
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('current', a.dataset.page === page));
  await pages[page]();
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    const res = await post('/session/password', { username: f.username.value, password: f.password.value });
    setToken(res.accessToken || res.token || '');
    f.password.value = '';
    status('Signed in.');
    await route();
  } catch (e) {
    if (!showErrors(f, e)) f.querySelector('[data-error-for="signin"]').textContent = e.message;
  }
});

$('signout').addEventListener('click', async () => {
  try { await request('DELETE', '/session'); } catch { /* the session may be gone already */ }
  setToken('');
  status('Signed out.');
  showSignin();
});
window.addEventListener('signed-out', () => { setToken(''); showSignin('Your session ended: sign in again.'); });
window.addEventListener('hashchange', route);

initManage();
initMonitor();
route();
