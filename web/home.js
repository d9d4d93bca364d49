// Home: the viewer's questions, modules and cycles (open ones first, with the
// deadline and a countdown), the organization's counts, drafts, notifications.

import { h, fill } from './dom.js';
import { t, dateTime, relative, number } from './i18n.js';
import { gql } from './api.js';

const QUERY = `query Home($org: ID!) {
  viewer {
    unreadNotificationCount
    notifications(unread: true, first: 10) {
      nodes { id kind reason createdAt module { id title } revision { number } }
    }
  }
  questions(first: 50) {
    nodes {
      id code title
      kits {
        id title
        modules {
          id number title status
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
              : null),
          cycles.length ? h('ul', { class: 'cycles' }, cycles.map((c) => cycleRow(m, c, viewer))) : null);
      }))))));
  fill(main,
    h('h1', {}, t('home.welcome', { name: viewer.displayName })),
    h('section', { class: 'card notes', 'aria-labelledby': 'notes-h' },
      h('h2', { id: 'notes-h' }, t('home.notifications', { count: data.viewer.unreadNotificationCount })),
      notes.length ? h('p', {}, h('button', {
        type: 'button', class: 'link', id: 'mark-read',
        onclick: async () => {
          await gql(`mutation { markNotificationsRead(input: {}) { unreadCount } }`);
          const again = await homePage(main, viewer);
          again.dispose();
        },
      }, t('home.markRead'))) : null,
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
