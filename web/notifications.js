// Your notifications: every one, newest first (unread ones marked), each
// marked read when opened or all at once.

import { h, fill, announce } from './dom.js';
import { t, dateTime } from './i18n.js';
import { gql } from './api.js';
import { revisionPath } from './home.js';

const LIST = `query($unread: Boolean, $after: String) { viewer {
  unreadNotificationCount
  notifications(unread: $unread, first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id kind reason createdAt readAt module { id title } revision { number } }
  }
} }`;
const MARK = `mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { unreadCount } }`;

export async function notificationsPage(main, viewer, url) {
  document.title = `${t('notes.title')} · kitreview`;
  const onlyUnread = url.searchParams.get('unread') === '1';
  const list = h('ul', { class: 'notes-list' });
  const heading = h('h1', {});
  const more = h('p', {});
  let shown = viewer.unreadNotificationCount;
  const setCount = (n) => {
    fill(heading, t('notes.heading', { count: n }));
    if (n !== shown) window.dispatchEvent(new CustomEvent('kitreview:viewer'));
    shown = n;
  };

  async function mark(ids) {
    const { markNotificationsRead: r } = await gql(MARK, { input: ids ? { ids } : {} });
    setCount(r.unreadCount);
  }

  function item(n) {
    const li = h('li', { class: n.readAt ? 'read' : 'unread', 'data-note': n.id },
      h('a', {
        href: revisionPath(n.module.id, n.revision.number),
        onclick: () => { if (!n.readAt) mark([n.id]).catch(() => {}); },
      }, t(`notification.${n.kind}`, { module: n.module.title, number: n.revision.number })),
      ' ', h('span', { class: 'meta' }, dateTime(n.createdAt), ' · ', t(`notes.reason.${n.reason}`)),
      n.readAt ? null : [' ', h('span', { class: 'pill pill-open' }, t('notes.unread')), ' ',
        h('button', {
          type: 'button', class: 'link',
          'aria-label': t('notes.markOne', { module: n.module.title, number: n.revision.number }),
          onclick: async () => {
            await mark([n.id]);
            n.readAt = new Date().toISOString();
            li.replaceWith(item(n));
          },
        }, t('notes.markRead'))]);
    return li;
  }

  async function load(after) {
    const { viewer: v } = await gql(LIST, { unread: onlyUnread ? true : null, after });
    if (!after) { fill(list); setCount(v.unreadNotificationCount); }
    for (const n of v.notifications.nodes) list.appendChild(item(n));
    if (!list.children.length) list.appendChild(h('li', { class: 'meta' }, t('home.noNotifications')));
    fill(more, v.notifications.pageInfo.hasNextPage
      ? h('button', { type: 'button', class: 'secondary', onclick: () => load(v.notifications.pageInfo.endCursor) }, t('audit.more'))
      : null);
  }

  fill(main, heading,
    h('p', { class: 'buttons' },
      h('a', { href: onlyUnread ? '/notifications' : '/notifications?unread=1' }, t(onlyUnread ? 'notes.showAll' : 'notes.showUnread')),
      h('button', {
        type: 'button', class: 'secondary', id: 'mark-all',
        onclick: async () => { await mark(null); await load(null); announce(t('notes.allRead')); },
      }, t('home.markRead'))),
    h('section', { class: 'card' }, list, more));
  await load(null);
  return { dispose() {} };
}
