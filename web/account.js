// Your account: who you are in kitreview, and a new password (the server
// renews the session, so this browser stays signed in and every other
// session ends).

import { h, fill, announce } from './dom.js';
import { t } from './i18n.js';
import * as api from './api.js';

const ME = `{ viewer { id email displayName roles organization { shortName name } rapporteurOf { code title } } }`;

export async function accountPage(main) {
  document.title = `${t('account.title')} · kitreview`;
  const { viewer: me } = await api.gql(ME);
  const current = h('input', { id: 'pw-current', type: 'password', required: true, autocomplete: 'current-password' });
  const next = h('input', { id: 'pw-new', type: 'password', required: true, minlength: 12, autocomplete: 'new-password', 'aria-describedby': 'pw-help' });
  const again = h('input', { id: 'pw-again', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  const error = h('p', { id: 'pw-error', class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('account.change'));
  const formEl = h('form', {
    class: 'card narrow', 'aria-labelledby': 'pw-h',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      if (next.value !== again.value) {
        error.textContent = t('account.mismatch');
        again.focus();
        return;
      }
      button.disabled = true;
      try {
        await api.changePassword(current.value, next.value);
        formEl.reset();
        announce(t('account.changed'));
      } catch (err) {
        error.textContent = err.code === 'VALIDATION' ? t('error.validation', { message: err.message })
          : err.code === 'RATE_LIMITED' ? t('signIn.throttled', { message: err.message })
            : t('error.generic', { message: err.message });
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h2', { id: 'pw-h' }, t('account.password')),
  h('label', { for: 'pw-current' }, t('account.current')), current,
  h('label', { for: 'pw-new' }, t('account.new')), next,
  h('p', { id: 'pw-help', class: 'help' }, t('account.help')),
  h('label', { for: 'pw-again' }, t('account.again')), again,
  error, h('p', { class: 'buttons' }, button));
  fill(main,
    h('h1', {}, t('account.title')),
    h('section', { class: 'card narrow', 'aria-labelledby': 'me-h' },
      h('h2', { id: 'me-h' }, me.displayName),
      h('dl', { class: 'facts' },
        h('dt', {}, t('signIn.email')), h('dd', {}, me.email || ''),
        h('dt', {}, t('filter.organization')), h('dd', {}, `${me.organization.shortName} — ${me.organization.name}`),
        h('dt', {}, t('admin.roles')), h('dd', {}, me.roles.map((r) => t(`role.${r}`)).join(', ')),
        me.rapporteurOf.length ? [h('dt', {}, t('admin.rapporteurOf')), h('dd', {}, me.rapporteurOf.map((q) => `${q.code} ${q.title}`).join('; '))] : null)),
    formEl);
  return { dispose() {} };
}
