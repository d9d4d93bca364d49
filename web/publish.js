// The next revision: its Markdown (uploaded or edited here), the comments it
// addresses, published with the check that nobody published first; then the
// comments carried to it, each with where it now points.

import { h, fill, randomKey, announce, go } from './dom.js';
import { t, number } from './i18n.js';
import { gql } from './api.js';
import { revisionPath } from './home.js';

const MODULE = `query($m: ID!) { node(id: $m) { ... on Module {
  id title viewerCanEdit
  currentRevision { id number markdown reviewCycles { id title status } }
} } }`;
const ROWS = `query($c: ID!, $after: String) { node(id: $c) { ... on ReviewCycle {
  consolidatedTable(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { number organization clause typeCode body disposition comment { id } }
  }
} } }`;
const CREATE = `mutation($input: CreateRevisionInput!) { createRevision(input: $input) { revision { id number } } }`;
const CARRIED = `query($m: ID!, $n: Int!, $after: String) { node(id: $m) { ... on Module {
  id title
  revision(number: $n) { id number
    carriedComments(first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes {
        comment { id number typeCode body organization { shortName } disposition { kind } revision { number } }
        anchor { status score blockAnchorId sectionAnchorId section { clause title } block { text } }
      }
    }
  }
} } }`;

const MAX_BYTES = 2 * 1024 * 1024;
const ADDRESSING = new Set(['ACCEPTED', 'ACCEPTED_IN_PRINCIPLE']);

export async function publishPage(main, viewer, moduleId) {
  const { node: m } = await gql(MODULE, { m: moduleId });
  if (!m) { fill(main, h('h1', {}, t('notFound.title'))); return { dispose() {} }; }
  document.title = `${t('publish.title')} · ${m.title} · kitreview`;
  if (!m.viewerCanEdit) {
    fill(main, h('h1', {}, t('publish.title')), h('p', { class: 'error', role: 'alert', 'data-refused': '' }, t('publish.forbidden')));
    return { dispose() {} };
  }
  const base = m.currentRevision;
  const rows = [];
  for (const c of base ? base.reviewCycles : []) {
    let after = null;
    for (let page = 0; page < 50; page += 1) {
      const d = await gql(ROWS, { c: c.id, after });
      const tbl = d.node.consolidatedTable;
      rows.push(...tbl.nodes.map((r) => ({ ...r, cycle: c.title })));
      if (!tbl.pageInfo.hasNextPage) break;
      after = tbl.pageInfo.endCursor;
    }
  }
  const text = h('textarea', { id: 'p-markdown', rows: 18, required: true, class: 'markdown', value: base ? base.markdown : '' });
  const file = h('input', {
    id: 'p-file', type: 'file', accept: '.md,.markdown,.txt,text/markdown,text/plain',
    onchange: async () => {
      const f = file.files[0];
      if (!f) return;
      if (f.size > MAX_BYTES) { error.textContent = t('publish.tooBig', { size: number(Math.round(f.size / 1024)) }); return; }
      text.value = await f.text();
      announce(t('publish.loaded', { name: f.name }));
    },
  });
  const summary = h('textarea', { id: 'p-summary', rows: 3, required: true });
  const error = h('p', { class: 'error', role: 'alert' });
  const picks = rows.map((r) => h('li', {},
    h('input', { type: 'checkbox', id: `p-c-${r.comment.id}`, value: r.comment.id, checked: ADDRESSING.has(r.disposition) }),
    h('label', { for: `p-c-${r.comment.id}`, class: 'inline' },
      `${t('comment.no', { number: r.number })} · ${r.organization} · ${r.clause} · ${r.typeCode} · `,
      r.disposition ? h('strong', {}, t(`disposition.${r.disposition}`)) : t('consolidate.undecided'), ' — ',
      r.body.length > 120 ? `${r.body.slice(0, 120)}…` : r.body)));
  const key = randomKey();
  const form = h('form', {
    class: 'card publish',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      if (new Blob([text.value]).size > MAX_BYTES) { error.textContent = t('publish.tooBig', { size: number(Math.round(new Blob([text.value]).size / 1024)) }); return; }
      const addressed = [...form.querySelectorAll('.addressed input:checked')].map((i) => i.value);
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const r = await gql(CREATE, { input: {
          moduleId, baseRevisionId: base ? base.id : null, markdown: text.value, summary: summary.value,
          addressedCommentIds: addressed, idempotencyKey: key,
        } });
        const n = r.createRevision.revision.number;
        announce(t('publish.published', { number: n }));
        // A first revision has nothing carried to it: straight to its page.
        const next = base ? `${revisionPath(moduleId, n)}/carried` : revisionPath(moduleId, n);
        go(next);
      } catch (err) {
        error.textContent = err.code === 'CONFLICT' ? t('publish.conflict', { message: err.message })
          : t('error.generic', { message: err.message });
        button.disabled = false;
      }
    },
  },
  h('p', {}, base ? t('publish.base', { number: base.number }) : t('publish.first')),
  h('label', { for: 'p-file' }, t('publish.upload')), file,
  h('label', { for: 'p-markdown' }, t('publish.markdown')), text,
  h('label', { for: 'p-summary' }, t('publish.summary')), summary,
  h('fieldset', { class: 'addressed' }, h('legend', {}, t('publish.addresses', { count: rows.length })),
    rows.length ? h('ul', {}, picks) : h('p', { class: 'meta' }, t('comments.none'))),
  error,
  h('p', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('publish.button'))));
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('nav.home')), ' › ', base ? h('a', { href: revisionPath(moduleId, base.number) }, m.title) : m.title),
    h('h1', {}, t('publish.title'), ': ', m.title),
    form);
  return { dispose() {} };
}

const ORDER = { ORPHANED: 0, FUZZY: 1, MOVED: 2, EXACT: 3 };

export async function carriedPage(main, viewer, moduleId, n) {
  const nodes = [];
  let m = null;
  let after = null;
  for (let page = 0; page < 50; page += 1) {
    const d = await gql(CARRIED, { m: moduleId, n, after });
    m = d.node;
    if (!m || !m.revision) break;
    const c = m.revision.carriedComments;
    nodes.push(...c.nodes);
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  if (!m || !m.revision) { fill(main, h('h1', {}, t('notFound.title'))); return { dispose() {} }; }
  document.title = `${t('carried.title', { number: n })} · ${m.title} · kitreview`;
  nodes.sort((a, b) => ORDER[a.anchor.status] - ORDER[b.anchor.status]);
  const counts = {};
  for (const x of nodes) counts[x.anchor.status] = (counts[x.anchor.status] || 0) + 1;
  const orphaned = nodes.filter((x) => x.anchor.status === 'ORPHANED');
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('nav.home')), ' › ', h('a', { href: revisionPath(moduleId, n) }, t('revision.title', { module: m.title, number: n }))),
    h('h1', {}, t('carried.title', { number: n })),
    h('p', { class: 'summary' }, ['EXACT', 'MOVED', 'FUZZY', 'ORPHANED'].map((s) => `${t(`carried.${s}`)}: ${number(counts[s] || 0)}`).join(' · ')),
    orphaned.length ? h('p', { class: 'banner banner-sealed', role: 'note' }, t('carried.orphanedHelp', { count: orphaned.length })) : null,
    h('ol', { class: 'carried' }, nodes.map((x) => h('li', { class: `carried-${x.anchor.status.toLowerCase()}`, 'data-status': x.anchor.status },
      h('p', {}, h('span', { class: `pill carry-${x.anchor.status.toLowerCase()}` }, t(`carried.${x.anchor.status}`)),
        x.anchor.status === 'FUZZY' && x.anchor.score !== null ? ` ${t('carried.score', { pct: Math.round(x.anchor.score * 100) })}` : '', ' ',
        h('strong', {}, t('comment.no', { number: x.comment.number })), ` · ${x.comment.organization.shortName} · ${x.comment.typeCode} · `,
        t('carried.from', { number: x.comment.revision.number }),
        x.comment.disposition ? [' · ', t(`disposition.${x.comment.disposition.kind}`)] : null),
      h('p', { class: 'body' }, x.comment.body),
      x.anchor.status === 'ORPHANED' ? h('p', { class: 'meta' }, t('carried.orphaned'))
        : h('p', { class: 'meta' }, t('carried.now'), ' ',
          h('a', { href: revisionPath(moduleId, n, `#${x.anchor.blockAnchorId || x.anchor.sectionAnchorId || ''}`) },
            x.anchor.section ? (x.anchor.section.clause ? `${x.anchor.section.clause} ${x.anchor.section.title}` : x.anchor.section.title) : t('anchor.document')),
          x.anchor.block ? h('blockquote', { class: 'quote' }, x.anchor.block.text.length > 240 ? `${x.anchor.block.text.slice(0, 240)}…` : x.anchor.block.text) : null)))),
    nodes.length ? null : h('p', {}, t('carried.none')));
  return { dispose() {} };
}
