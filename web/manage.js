// The secretariat's actions on review cycles, as in the API and with its
// permissions (the server checks them; these forms only appear for the
// secretariat): open a cycle on a revision; extend, close now, grant a late
// submission.

import { h, fill, announce } from './dom.js';
import { t, dateTime } from './i18n.js';
import { gql } from './api.js';

const OPEN = `mutation($input: OpenReviewCycleInput!) { openReviewCycle(input: $input) { cycle { id } } }`;
const EXTEND = `mutation($input: ExtendReviewCycleInput!) { extendReviewCycle(input: $input) { cycle { id closesAt } } }`;
const CLOSE = `mutation($input: CycleIdInput!) { closeReviewCycleNow(input: $input) { cycle { id status } } }`;
const GRANT = `mutation($input: GrantLateSubmissionInput!) { grantLateSubmission(input: $input) { cycle { id } } }`;
const ORGS = `{ organizations(first: 100) { nodes { id shortName name } } }`;

export function isSecretariat(viewer) {
  return viewer.roles.includes('SECRETARIAT');
}

/** `<input type=datetime-local>` value for an ISO instant, in local time. */
function localValue(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function instant(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function form(id, title, fields, button, action) {
  const error = h('p', { class: 'error', role: 'alert' });
  const el = h('form', {
    id: `${id}-form`, class: 'admin-form', 'aria-labelledby': `${id}-h`,
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      const b = el.querySelector('button[type=submit]');
      b.disabled = true;
      try { await action(); } catch (err) { error.textContent = t('error.generic', { message: err.message }); }
      b.disabled = false;
    },
  }, h('h3', { id: `${id}-h` }, title), fields, error, h('p', { class: 'buttons' }, h('button', { type: 'submit', class: 'secondary' }, button)));
  return el;
}

export function field(id, label, input) {
  input.id = id;
  return h('div', { class: 'filter' }, h('label', { for: id }, label), input);
}

/** The cycle's own actions (extend, close now, late grants); `onClosed` after a close. */
export async function cycleAdmin(container, cycle, onClosed) {
  const { organizations } = await gql(ORGS);
  const closes = h('input', { type: 'datetime-local', required: true, value: localValue(cycle.closesAt) });
  const org = h('select', { required: true }, organizations.nodes.map((o) => h('option', { value: o.id }, `${o.shortName} — ${o.name}`)));
  const until = h('input', { type: 'datetime-local', required: true, value: localValue(new Date(Date.now() + 7 * 86400000).toISOString()) });
  const open = cycle.status === 'OPEN' || cycle.status === 'SCHEDULED';
  const now = h('p', { class: 'meta' });
  const showNow = () => { now.textContent = t('manage.now', { status: t(`cycle.status.${cycle.status}`), date: dateTime(cycle.closesAt) }); };
  showNow();
  fill(container,
    h('h2', { id: 'admin-h' }, t('manage.title')),
    now,
    h('div', { class: 'admin-forms' },
      open ? form('extend', t('manage.extend'), field('m-closes', t('manage.closesAt'), closes), t('manage.extendButton'), async () => {
        const at = instant(closes.value);
        await gql(EXTEND, { input: { cycleId: cycle.id, closesAt: at } });
        cycle.closesAt = at;
        showNow();
        announce(t('manage.extended', { date: dateTime(at) }));
      }) : null,
      open ? form('close', t('manage.close'), h('p', { class: 'help' }, t('manage.closeHelp')), t('manage.closeButton'), async () => {
        if (!window.confirm(t('manage.confirmClose'))) return;
        await gql(CLOSE, { input: { cycleId: cycle.id } });
        announce(t('manage.closed'));
        onClosed();
      }) : null,
      cycle.status !== 'CONSOLIDATED' ? form('grant', t('manage.grant'), [field('m-org', t('filter.organization'), org), field('m-until', t('manage.until'), until)], t('manage.grantButton'), async () => {
        const at = instant(until.value);
        await gql(GRANT, { input: { cycleId: cycle.id, organizationId: org.value, until: at } });
        announce(t('manage.granted', { org: org.selectedOptions[0].textContent, date: dateTime(at) }));
      }) : null));
}

/** Open a review cycle on a revision. */
export function openCycleForm(container, module, revision, onDone) {
  const title = h('input', { type: 'text', required: true, value: t('manage.defaultTitle', { module: module.title, number: revision.number }) });
  const now = new Date();
  const opens = h('input', { type: 'datetime-local', required: true, value: localValue(now.toISOString()) });
  const closes = h('input', { type: 'datetime-local', required: true, value: localValue(new Date(now.getTime() + 28 * 86400000).toISOString()) });
  const visibility = h('select', {}, ['OPEN', 'SEALED'].map((v) => h('option', { value: v }, t(`cycle.visibility.${v}`))));
  fill(container, form('open-cycle', t('manage.openTitle'), [
    field('m-title', t('manage.cycleTitle'), title),
    field('m-opens', t('manage.opensAt'), opens),
    field('m-closes-new', t('manage.closesAt'), closes),
    field('m-visibility', t('manage.visibility'), visibility),
    h('p', { class: 'help' }, t('manage.visibilityHelp')),
  ], t('manage.openButton'), async () => {
    const r = await gql(OPEN, { input: {
      revisionId: revision.id, title: title.value, opensAt: instant(opens.value), closesAt: instant(closes.value), visibility: visibility.value,
    } });
    announce(t('manage.opened'));
    onDone(r.openReviewCycle.cycle.id);
  }));
}
