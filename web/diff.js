// Two revisions compared: inline or side by side, word-level changes, moved
// blocks marked, and the comments the newer revision says it addresses.

import { h, fill } from './dom.js';
import { t, number } from './i18n.js';
import { gql } from './api.js';
import { revisionPath } from './home.js';

const QUERY = `query Diff($module: ID!, $from: Int!, $to: Int!) {
  node(id: $module) { ... on Module {
    id title revisionCount
    diff(fromRevision: $from, toRevision: $to) {
      summary { sectionsAdded sectionsRemoved sectionsChanged sectionsMoved blocksAdded blocksRemoved blocksChanged blocksMoved blocksUnchanged wordsAdded wordsRemoved }
      addressedComments { id number typeCode body organization { shortName } }
      sections {
        status
        fromSection { anchorId clause title }
        toSection { anchorId clause title }
        blocks {
          status similarity
          fromBlock { anchorId text }
          toBlock { anchorId text }
          changes { op text }
          addressedComments { id number organization { shortName } }
        }
      }
    }
  } }
}`;

function sectionTitle(s) {
  return s ? (s.clause ? `${s.clause} ${s.title}` : s.title) : '';
}

function changesInline(b) {
  if (b.status === 'ADDED') return h('ins', {}, b.toBlock.text);
  if (b.status === 'REMOVED') return h('del', {}, b.fromBlock.text);
  if (!b.changes.length) return (b.toBlock || b.fromBlock).text;
  return b.changes.map((c) => (c.op === 'INSERT' ? h('ins', {}, c.text) : c.op === 'DELETE' ? h('del', {}, c.text) : c.text));
}

function changesSide(b, side) {
  const block = side === 'from' ? b.fromBlock : b.toBlock;
  if (!block) return h('span', { class: 'meta' }, '—');
  if (!b.changes.length) return side === 'from' && b.status === 'REMOVED' ? h('del', {}, block.text)
    : side === 'to' && b.status === 'ADDED' ? h('ins', {}, block.text) : block.text;
  return b.changes.filter((c) => c.op === 'EQUAL' || c.op === (side === 'from' ? 'DELETE' : 'INSERT'))
    .map((c) => (c.op === 'EQUAL' ? c.text : h(side === 'from' ? 'del' : 'ins', {}, c.text)));
}

export async function diffPage(main, viewer, moduleId, url) {
  const to = Number(url.searchParams.get('to')) || 2;
  const from = Number(url.searchParams.get('from')) || Math.max(1, to - 1);
  const mode = url.searchParams.get('view') === 'side' ? 'side' : 'inline';
  const showAll = url.searchParams.get('all') === '1';
  const data = await gql(QUERY, { module: moduleId, from, to });
  const m = data.node;
  const d = m.diff;
  document.title = `${t('diff.title', { from, to })} · ${m.title} · kitreview`;
  const link = (params) => {
    const p = new URLSearchParams({ from, to, view: mode, all: showAll ? '1' : '0', ...params });
    return `/modules/${encodeURIComponent(moduleId)}/diff?${p}`;
  };
  const pick = (id, label, value, key) => [h('label', { for: id }, label), h('select', {
    id, onchange: (e) => { location.href = link({ [key]: e.target.value }); },
  }, Array.from({ length: m.revisionCount }, (_, i) => i + 1).map((n) =>
    h('option', { value: n, selected: n === value }, t('revision.short', { number: n }))))];
  const s = d.summary;
  const commentLink = (c) => h('a', { href: `${revisionPath(moduleId, from)}#comment-${c.id}` }, t('comment.no', { number: c.number ?? '?' }), ` (${c.organization.shortName})`);

  const rows = [];
  for (const sec of d.sections) {
    const blocks = sec.blocks.filter((b) => showAll || b.status !== 'UNCHANGED');
    if (!blocks.length && sec.status === 'UNCHANGED' && !showAll) continue;
    rows.push(h('section', { class: `diff-section diff-${sec.status.toLowerCase()}` },
      h('h2', {}, sectionTitle(sec.toSection || sec.fromSection), ' ',
        sec.status !== 'UNCHANGED' ? h('span', { class: `pill diff-pill-${sec.status.toLowerCase()}` }, t(`diff.status.${sec.status}`)) : null,
        sec.status === 'MOVED' || (sec.fromSection && sec.toSection && sec.fromSection.clause !== sec.toSection.clause)
          ? h('span', { class: 'meta' }, ` ${t('diff.wasClause', { clause: sectionTitle(sec.fromSection) })}`) : null),
      blocks.map((b) => h('div', { class: `diff-block diff-${b.status.toLowerCase()}`, id: b.toBlock ? b.toBlock.anchorId : null },
        h('p', { class: 'diff-meta' },
          h('span', { class: `pill diff-pill-${b.status.toLowerCase()}` }, t(`diff.status.${b.status}`)),
          b.similarity !== null && b.status !== 'UNCHANGED' ? h('span', { class: 'meta' }, ` ${t('diff.similarity', { pct: Math.round(b.similarity * 100) })}`) : null,
          b.addressedComments.length ? [' ', t('diff.addresses'), ' ', b.addressedComments.map((c, i) => [i ? ', ' : '', commentLink(c)])] : null),
        mode === 'side'
          ? h('div', { class: 'side' }, h('div', { class: 'from' }, changesSide(b, 'from')), h('div', { class: 'to' }, changesSide(b, 'to')))
          : h('p', { class: 'inline' }, changesInline(b))))));
  }

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('nav.home')), ' › ', h('a', { href: revisionPath(moduleId, to) }, m.title)),
    h('h1', {}, t('diff.title', { from, to })),
    h('form', { class: 'diff-controls', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'filter' }, pick('d-from', t('diff.from'), from, 'from')),
      h('div', { class: 'filter' }, pick('d-to', t('diff.to'), to, 'to')),
      h('p', {},
        mode === 'inline' ? h('a', { href: link({ view: 'side' }) }, t('diff.sideBySide')) : h('a', { href: link({ view: 'inline' }) }, t('diff.inline')),
        ' · ',
        showAll ? h('a', { href: link({ all: '0' }) }, t('diff.changesOnly')) : h('a', { href: link({ all: '1' }) }, t('diff.showAll')))),
    h('p', { class: 'summary', role: 'note' }, t('diff.summary', {
      changed: s.blocksChanged, added: s.blocksAdded, removed: s.blocksRemoved, moved: s.blocksMoved,
      wordsAdded: number(s.wordsAdded), wordsRemoved: number(s.wordsRemoved),
    })),
    d.addressedComments.length ? h('section', { class: 'card' }, h('h2', {}, t('diff.addressedTitle', { count: d.addressedComments.length })),
      h('ul', {}, d.addressedComments.map((c) => h('li', {}, commentLink(c), ` · ${c.typeCode} · `, c.body.length > 140 ? `${c.body.slice(0, 140)}…` : c.body)))) : null,
    mode === 'side' ? h('div', { class: 'side side-head', 'aria-hidden': 'true' }, h('div', {}, t('revision.short', { number: from })), h('div', {}, t('revision.short', { number: to }))) : null,
    rows.length ? rows : h('p', {}, t('diff.none')));
  return { dispose() {} };
}
