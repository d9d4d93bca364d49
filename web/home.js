// Home: the viewer's questions, modules and cycles (open ones first, with the
// deadline and a countdown), the organization's counts, drafts, notifications;
// for the rapporteurs and the secretariat, new kits and modules.

import { h, fill, announce, go } from './dom.js';
import { t, dateTime, relative, number } from './i18n.js';
import { gql } from './api.js';
import { form, field } from './manage.js';

const QUERY = `query Home($org: ID!) {
  viewer {
    unreadNotificationCount
    notifications(unread: true, first: 10) {
      nodes { id kind reason createdAt module { id title } revision { number } }
    }
  }
  questions(first: 50) {
    nodes {
      id code title viewerCanManage
      kits {
        id title viewerCanEdit
        modules {
          id number title status viewerCanEdit
          currentRevision { number }
          reviewCycles {
            id title status visibility opensAt closesAt viewerCanComment viewerCanManage viewerLateUntil
            revision { number }
            ours: comments(filter: { organizationId: $org, state: SUBMITTED }) { totalCount }
            drafts: comments(filter: { state: DRAFT }) { totalCount }
          }
        }
      }
    }
  }
}`;

const CREATE_KIT = `mutation($input: CreateKitInput!) { createKit(input: $input) { kit { id } } }`;
const CREATE_MODULE = `mutation($input: CreateModuleInput!) { createModule(input: $input) { module { id } } }`;

function newKit(q, reload) {
  const title = h('input', { type: 'text', required: true, maxlength: 300 });
  const description = h('textarea', { rows: 2 });
  return h('details', { class: 'admin' }, h('summary', {}, t('home.newKit')),
    form(`kit-${q.id}`, t('home.newKitFor', { code: q.code }), [
      field(`k-title-${q.id}`, t('home.kitTitle'), title),
      field(`k-desc-${q.id}`, t('home.kitDescription'), description),
    ], t('admin.create'), async () => {
      await gql(CREATE_KIT, { input: { questionId: q.id, title: title.value.trim(), description: description.value.trim() || null } });
      announce(t('home.kitCreated', { title: title.value.trim() }));
      reload();
    }));
}

function newModule(k) {
  const next = k.modules.reduce((n, m) => Math.max(n, m.number), 0) + 1;
  const num = h('input', { type: 'number', required: true, min: 1, step: 1, value: String(next) });
  const title = h('input', { type: 'text', required: true, maxlength: 300 });
  return h('details', { class: 'admin' }, h('summary', {}, t('home.newModule')),
    form(`module-${k.id}`, t('home.newModuleIn', { kit: k.title }), [
      field(`m-num-${k.id}`, t('home.moduleNumber'), num),
      field(`m-title-${k.id}`, t('home.moduleTitle'), title),
      h('p', { class: 'help' }, t('home.moduleHelp')),
    ], t('admin.create'), async () => {
      const r = await gql(CREATE_MODULE, { input: { kitId: k.id, number: Number(num.value), title: title.value.trim() } });
      announce(t('home.moduleCreated', { title: title.value.trim() }));
      go(`/modules/${encodeURIComponent(r.createModule.module.id)}/publish`);
    }));
}

const ORDER = { OPEN: 0, SCHEDULED: 1, CLOSED: 2, CONSOLIDATED: 3 };

export function revisionPath(moduleId, n, hash = '') {
  return `/modules/${encodeURIComponent(moduleId)}/revisions/${n}${hash}`;
}

function cycleRow(module, c, viewer) {
  const deadline = c.status === 'SCHEDULED' ? c.opensAt : c.closesAt;
  const countdown = h('span', { class: 'countdown', 'data-at': deadline }, relative(deadline));
  return h('li', { class: `cycle cycle-${c.status.toLowerCase()}` },
    h('a', { href: `${revisionPath(module.id, c.revision.number)}?cycle=${encodeURIComponent(c.id)}` }, c.title),
    ' ',
    h('span', { class: `pill pill-${c.status.toLowerCase()}` }, t(`cycle.status.${c.status}`)),
    ' ',
    h('span', { class: 'pill' }, t(`cycle.visibility.${c.visibility}`)),
    h('p', { class: 'meta' },
      c.status === 'SCHEDULED' ? t('home.opens', { date: dateTime(c.opensAt) })
        : c.status === 'OPEN' ? t('home.closes', { date: dateTime(c.closesAt) })
          : t('home.closed', { date: dateTime(c.closesAt) }),
      ' ', c.status === 'OPEN' || c.status === 'SCHEDULED' ? ['(', countdown, ')'] : null),
    h('p', { class: 'meta' },
      t('home.ours', { count: c.ours.totalCount, org: viewer.organization.shortName }),
      c.drafts.totalCount ? [' · ', h('strong', {}, t('home.drafts', { count: c.drafts.totalCount }))] : null,
      c.viewerLateUntil ? [' · ', t('cycle.lateUntil', { date: dateTime(c.viewerLateUntil) })] : null),
    c.viewerCanManage && c.status !== 'SCHEDULED' ? h('p', {}, h('a', { href: `/cycles/${encodeURIComponent(c.id)}/consolidation` }, t('consolidate.open'))) : null);
}

export async function homePage(main, viewer) {
  document.title = `${t('home.title')} · kitreview`;
  const data = await gql(QUERY, { org: viewer.organization.id });
  const notes = data.viewer.notifications.nodes;
  const questions = data.questions.nodes;
  const sections = questions.map((q) => h('section', { class: 'card', 'aria-labelledby': `q-${q.id}` },
    h('h2', { id: `q-${q.id}` }, `${t('home.question')} ${q.code}: ${q.title}`),
    q.kits.map((k) => h('div', { class: 'kit' },
      h('h3', {}, k.title),
      h('ul', { class: 'modules' }, k.modules.map((m) => {
        const cycles = [...m.reviewCycles].sort((a, b) =>
          (ORDER[a.status] - ORDER[b.status]) || a.closesAt.localeCompare(b.closesAt));
        return h('li', { class: 'module' },
          h('h4', {}, m.currentRevision
            ? h('a', { href: revisionPath(m.id, m.currentRevision.number) },
              t('home.module', { number: m.number, title: m.title }))
            : t('home.module', { number: m.number, title: m.title })),
          h('p', { class: 'meta' }, t(`module.status.${m.status}`),
            m.currentRevision ? [' · ', t('home.revision', { number: m.currentRevision.number })] : null,
            m.currentRevision && m.currentRevision.number > 1
              ? [' · ', h('a', { href: `/modules/${encodeURIComponent(m.id)}/diff?from=${m.currentRevision.number - 1}&to=${m.currentRevision.number}` }, t('home.diff'))]
              : null,
            !m.currentRevision && m.viewerCanEdit
              ? [' · ', h('a', { href: `/modules/${encodeURIComponent(m.id)}/publish` }, t('home.firstRevision'))]
              : null),
          cycles.length ? h('ul', { class: 'cycles' }, cycles.map((c) => cycleRow(m, c, viewer))) : null);
      })),
      k.viewerCanEdit ? newModule(k) : null)),
    q.viewerCanManage ? newKit(q, reload) : null));
  async function reload() {
    const again = await homePage(main, viewer);
    again.dispose();
  }
  fill(main,
    h('h1', {}, t('home.welcome', { name: viewer.displayName })),
    h('section', { class: 'card notes', 'aria-labelledby': 'notes-h' },
      h('h2', { id: 'notes-h' }, t('home.notifications', { count: data.viewer.unreadNotificationCount })),
      notes.length ? h('p', {}, h('button', {
        type: 'button', class: 'link', id: 'mark-read',
        onclick: async () => {
          await gql(`mutation { markNotificationsRead(input: {}) { unreadCount } }`);
          window.dispatchEvent(new CustomEvent('kitreview:viewer'));
          await reload();
        },
      }, t('home.markRead')), ' · ', h('a', { href: '/notifications' }, t('home.allNotifications'))) : h('p', {}, h('a', { href: '/notifications' }, t('home.allNotifications'))),
      notes.length ? h('ul', {}, notes.map((n) => h('li', {},
        h('a', { href: revisionPath(n.module.id, n.revision.number) },
          t(`notification.${n.kind}`, { module: n.module.title, number: n.revision.number })),
        ' ', h('span', { class: 'meta' }, relative(n.createdAt)))))
        : h('p', { class: 'meta' }, t('home.noNotifications'))),
    questions.length ? sections : h('p', {}, t('home.nothing')));
  const timer = setInterval(() => {
    for (const el of main.querySelectorAll('.countdown')) el.textContent = relative(el.dataset.at);
  }, 30000);
  return { dispose() { clearInterval(timer); } };
}

export { number };
