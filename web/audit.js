// The audit trail, for the secretariat (everything) and the rapporteurs (their
// questions; the server decides what each may read), filterable, newest first.

import { h, fill } from './dom.js';
import { t, dateTime } from './i18n.js';
import { gql, gqlAll } from './api.js';

const QUESTIONS = `{ questions(first: 50) { nodes { id code title } } }`;
const USERS = `query($after: String) { users(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id displayName organization { shortName } } } }`;

/** The people the viewer may filter by: every user for the secretariat (who may list them). */
async function people(viewer) {
  return viewer.roles.includes('SECRETARIAT') ? gqlAll(USERS, 'users') : [];
}
const EVENTS = `query($filter: AuditLogFilter, $after: String) {
  auditLog(filter: $filter, first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id at action entityType summary requestId actor { id displayName } organization { shortName } }
  }
}`;

function day(value, end) {
  if (!value) return null;
  const d = new Date(`${value}T${end ? '23:59:59' : '00:00:00'}`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export async function auditPage(main, viewer, url) {
  document.title = `${t('audit.title')} · kitreview`;
  const [{ questions }, users] = await Promise.all([gql(QUESTIONS), people(viewer)]);
  const p = url.searchParams;
  // A rapporteur cannot list users: the actor filter then holds the people
  // seen in the trail (a name in the table filters by that person).
  const actor = h('select', { id: 'a-actor' }, h('option', { value: '' }, t('filter.all')),
    users.map((u) => h('option', { value: u.id, selected: p.get('actor') === u.id }, `${u.displayName} (${u.organization.shortName})`)));
  const addActor = (a) => {
    if (![...actor.options].some((o) => o.value === a.id)) actor.appendChild(h('option', { value: a.id, selected: p.get('actor') === a.id }, a.displayName));
  };
  if (p.get('actor') && !users.length) addActor({ id: p.get('actor'), displayName: p.get('actor') });
  const question = h('select', { id: 'a-question' }, h('option', { value: '' }, t('filter.all')),
    questions.nodes.map((q) => h('option', { value: q.id, selected: p.get('question') === q.id }, `${q.code} ${q.title}`)));
  const action = h('input', { id: 'a-action', type: 'text', value: p.get('action') || '', placeholder: 'disposition.set' });
  const since = h('input', { id: 'a-since', type: 'date', value: p.get('since') || '' });
  const until = h('input', { id: 'a-until', type: 'date', value: p.get('until') || '' });
  const list = h('tbody', {});
  const more = h('p', {});
  const error = h('p', { class: 'error', role: 'alert' });

  async function load(after) {
    const filter = {
      questionId: question.value || null, actorId: actor.value || null, action: action.value.trim() || null,
      since: day(since.value, false), until: day(until.value, true),
    };
    try {
      const { auditLog } = await gql(EVENTS, { filter, after });
      error.textContent = '';
      if (!after) fill(list);
      for (const e of auditLog.nodes) {
        list.appendChild(h('tr', {},
          h('td', {}, h('time', { datetime: e.at }, dateTime(e.at))),
          h('td', {}, e.actor ? h('button', {
            type: 'button', class: 'link', title: t('audit.byActor', { name: e.actor.displayName }),
            onclick: () => { addActor(e.actor); actor.value = e.actor.id; apply(); },
          }, e.actor.displayName) : '—', e.organization ? ` (${e.organization.shortName})` : ''),
          h('td', {}, h('code', {}, e.action)),
          h('td', {}, e.entityType),
          h('td', { class: 'text' }, e.summary),
          h('td', { class: 'small' }, e.requestId || '')));
      }
      if (!list.children.length) list.appendChild(h('tr', {}, h('td', { colspan: 6 }, t('audit.none'))));
      fill(more, auditLog.pageInfo.hasNextPage
        ? h('button', { type: 'button', class: 'secondary', onclick: () => load(auditLog.pageInfo.endCursor) }, t('audit.more'))
        : null);
    } catch (err) {
      error.textContent = t('error.generic', { message: err.message });
    }
  }

  function apply() {
    const q = new URLSearchParams();
    for (const [k, el] of [['question', question], ['actor', actor], ['action', action], ['since', since], ['until', until]]) if (el.value) q.set(k, el.value);
    history.replaceState(null, '', `/audit${q.toString() ? `?${q}` : ''}`);
    load(null);
  }

  fill(main,
    h('h1', {}, t('audit.title')),
    h('p', { class: 'help' }, t('audit.help')),
    h('form', {
      class: 'filters',
      onsubmit: (e) => { e.preventDefault(); apply(); },
    },
    h('div', { class: 'filter' }, h('label', { for: 'a-question' }, t('audit.question')), question),
    h('div', { class: 'filter' }, h('label', { for: 'a-actor' }, t('audit.actor')), actor),
    h('div', { class: 'filter' }, h('label', { for: 'a-action' }, t('audit.action')), action),
    h('div', { class: 'filter' }, h('label', { for: 'a-since' }, t('audit.since')), since),
    h('div', { class: 'filter' }, h('label', { for: 'a-until' }, t('audit.until')), until),
    h('div', { class: 'filter' }, h('button', { type: 'submit', class: 'primary' }, t('audit.apply')))),
    error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'consolidation audit' },
      h('thead', {}, h('tr', {}, ['when', 'who', 'action', 'entity', 'summary', 'request'].map((c) => h('th', { scope: 'col' }, t(`audit.col.${c}`))))),
      list)),
    more);
  await load(null);
  return { dispose() {} };
}
