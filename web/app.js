// kitreview's workspace: a small single-page app on the GraphQL API.
// Routes: /  ·  /sign-in  ·  /modules/{id}/revisions/{n}[/carried]  ·  /modules/{id}/diff
//         /modules/{id}/publish  ·  /cycles/{id}/consolidation  ·  /audit
//         /admin  ·  /account  ·  /notifications

import { h, fill, announce } from './dom.js';
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import * as api from './api.js';
import { homePage } from './home.js';
import { revisionPage } from './revision.js';

// The pages a delegate rarely opens load when first asked for.
const diffPage = async (...a) => (await import('./diff.js')).diffPage(...a);
const consolidatePage = async (...a) => (await import('./consolidate.js')).consolidatePage(...a);
const publishPage = async (...a) => (await import('./publish.js')).publishPage(...a);
const carriedPage = async (...a) => (await import('./publish.js')).carriedPage(...a);
const auditPage = async (...a) => (await import('./audit.js')).auditPage(...a);
const adminPage = async (...a) => (await import('./admin.js')).adminPage(...a);
const accountPage = async (...a) => (await import('./account.js')).accountPage(...a);
const notificationsPage = async (...a) => (await import('./notifications.js')).notificationsPage(...a);

const main = document.getElementById('main');
let current = null; // the page on screen: { dispose() }
let viewer = null;

export function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

function header() {
  const top = document.getElementById('top');
  const langs = h('select', {
    id: 'lang', 'aria-label': t('nav.language'),
    onchange: (e) => i18n.choose(e.target.value),
  }, Object.entries(i18n.LANGUAGES).map(([code, name]) =>
    h('option', { value: code, selected: code === i18n.language(), lang: code }, name)));
  fill(top,
    h('nav', { class: 'bar', 'aria-label': t('nav.label') },
      h('a', { href: '/', class: 'brand' }, 'kitreview'),
      viewer ? h('a', { href: '/' }, t('nav.home')) : null,
      viewer ? h('a', { href: '/notifications', id: 'nav-notes' }, viewer.unreadNotificationCount ? t('nav.notifications', { count: viewer.unreadNotificationCount }) : t('nav.noNotifications')) : null,
      viewer && (viewer.roles.includes('SECRETARIAT') || viewer.roles.includes('RAPPORTEUR')) ? h('a', { href: '/audit' }, t('nav.audit')) : null,
      viewer && viewer.roles.includes('SECRETARIAT') ? h('a', { href: '/admin' }, t('nav.admin')) : null,
      h('a', { href: '/graphql', 'data-external': '' }, t('nav.api')),
      h('span', { class: 'spacer' }),
      h('label', { class: 'lang' }, h('span', { class: 'sr-only' }, t('nav.language')), langs),
      viewer ? h('a', { href: '/account', class: 'who', title: t('account.title') }, `${viewer.displayName} · ${viewer.organization.shortName}`) : null,
      viewer ? h('button', { type: 'button', class: 'link', onclick: signOut }, t('nav.signOut')) : null),
    h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }));
}

async function signOut() {
  await api.signOut();
  viewer = null;
  navigate('/sign-in', true);
}

function signInPage(next) {
  document.title = `${t('signIn.title')} · kitreview`;
  const email = h('input', { id: 'email', type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('signIn.submit'));
  // Added when the password is a temporary one from the secretariat.
  const fresh = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', minlength: 12 });
  const again = h('input', { id: 'new-password-again', type: 'password', autocomplete: 'new-password', minlength: 12 });
  const choose = h('fieldset', { class: 'choose-password' },
    h('legend', {}, t('signIn.chooseTitle')),
    h('p', { class: 'help', id: 'choose-help' }, t('signIn.chooseHelp')),
    h('label', { for: 'new-password' }, t('account.new')), fresh,
    h('label', { for: 'new-password-again' }, t('account.again')), again);
  const form = h('form', {
    class: 'card sign-in', 'aria-describedby': 'sign-in-error',
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      error.textContent = '';
      const choosing = choose.isConnected;
      if (choosing && fresh.value !== again.value) {
        error.textContent = t('account.mismatch');
        again.focus();
        button.disabled = false;
        return;
      }
      try {
        await api.signIn(email.value.trim(), password.value, choosing ? fresh.value : undefined);
        await loadViewer();
        header();
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', true);
      } catch (err) {
        if (err.code === 'PASSWORD_CHANGE_REQUIRED') {
          form.insertBefore(choose, error);
          fresh.required = again.required = true;
          error.textContent = t('signIn.chooseNeeded');
          fresh.focus();
          return;
        }
        error.textContent = err.code === 'RATE_LIMITED' ? t('signIn.throttled', { message: err.message })
          : err.status === 401 || err.code === 'UNAUTHENTICATED' ? (/expired/.test(err.message) ? t('signIn.temporaryExpired') : t('signIn.wrong'))
          : err.field === 'newPassword' ? t('signIn.newRefused', { message: err.message })
          : t('error.generic', { message: err.message });
        if (err.field === 'newPassword') fresh.select(); else password.select();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h1', {}, t('signIn.title')),
  h('p', {}, t('signIn.intro')),
  h('label', { for: 'email' }, t('signIn.email')), email,
  h('label', { for: 'password' }, t('signIn.password')), password,
  error, button);
  fill(main, form);
  email.focus();
  return { dispose() {} };
}

async function loadViewer() {
  const data = await api.gql(`{ viewer { id displayName roles unreadNotificationCount organization { id shortName name } } }`);
  viewer = data.viewer;
}

async function route() {
  if (current) current.dispose();
  current = null;
  const url = new URL(location.href);
  const path = url.pathname;
  if (path === '/sign-in') {
    current = signInPage(url.searchParams.get('next'));
    return;
  }
  if (!viewer) {
    navigate(`/sign-in?next=${encodeURIComponent(path + url.search + url.hash)}`, true);
    return;
  }
  fill(main, h('p', { class: 'loading' }, t('loading')));
  let m;
  try {
    if (path === '/') current = await homePage(main, viewer);
    else if (path === '/audit') current = await auditPage(main, viewer, url);
    else if (path === '/admin') current = await adminPage(main, viewer);
    else if (path === '/account') current = await accountPage(main, viewer);
    else if (path === '/notifications') current = await notificationsPage(main, viewer, url);
    else if ((m = path.match(/^\/modules\/([^/]+)\/revisions\/(\d+)$/))) {
      current = await revisionPage(main, viewer, decodeURIComponent(m[1]), Number(m[2]), url);
    } else if ((m = path.match(/^\/modules\/([^/]+)\/revisions\/(\d+)\/carried$/))) {
      current = await carriedPage(main, viewer, decodeURIComponent(m[1]), Number(m[2]));
    } else if ((m = path.match(/^\/modules\/([^/]+)\/publish$/))) {
      current = await publishPage(main, viewer, decodeURIComponent(m[1]));
    } else if ((m = path.match(/^\/cycles\/([^/]+)\/consolidation$/))) {
      current = await consolidatePage(main, viewer, decodeURIComponent(m[1]));
    } else if ((m = path.match(/^\/modules\/([^/]+)\/diff$/))) {
      current = await diffPage(main, viewer, decodeURIComponent(m[1]), url);
    } else {
      document.title = `${t('notFound.title')} · kitreview`;
      fill(main, h('h1', {}, t('notFound.title')), h('p', {}, h('a', { href: '/' }, t('nav.home'))));
    }
  } catch (err) {
    fill(main, h('h1', {}, t('error.title')), h('p', { class: 'error', role: 'alert' }, t('error.generic', { message: err.message })));
  }
  if (!location.hash) main.focus({ preventScroll: true });
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.hasAttribute('data-external') || a.hasAttribute('download') || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/exports/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', route);
window.addEventListener('kitreview:navigate', (e) => navigate(e.detail));
// A page changed what the header shows (the unread count): read it again.
window.addEventListener('kitreview:viewer', () => { loadViewer().then(header, () => {}); });
window.addEventListener('kitreview:signed-out', () => {
  if (!viewer) return;
  viewer = null;
  header();
  announce(t('signIn.expired'), 'error');
  navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, true);
});

async function start() {
  await i18n.load();
  document.querySelector('.skip').textContent = t('nav.skip');
  fill(document.getElementById('foot'), h('p', {}, t('foot.text')));
  const s = await api.session();
  if (s.signedIn) {
    try { await loadViewer(); } catch { viewer = null; }
  }
  header();
  await route();
}

start();
