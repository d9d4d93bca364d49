// The revision page: the draft rendered block by block (each block's element
// id is its anchor id), and beside it the comments the viewer may see, with
// drafts, threads, filters, commenting on a selection, and live updates.

import { h, fill, randomKey, announce } from './dom.js';
import { t, dateTime, relative, language } from './i18n.js';
import { gql, Live, upload } from './api.js';
import { locate, offsetIn } from './quote.js';
import { revisionPath } from './home.js';
import { isSecretariat, openCycleForm } from './manage.js';

const PAGE_QUERY = `query Revision($module: ID!, $n: Int!) {
  node(id: $module) {
    ... on Module {
      id number title revisionCount viewerCanEdit
      kit { title question { code } }
      reviewCycles {
        id title status visibility opensAt closesAt viewerCanComment viewerCanManage viewerLateUntil
        revision { number }
      }
      revision(number: $n) {
        id number summary createdAt wordCount
        author { displayName }
        sections { anchorId clause title level blocks { anchorId kind markdown html text } }
      }
    }
  }
}`;

const COMMENT_FIELDS = `id number state type typeCode body proposedChange language late
  submittedAt createdAt updatedAt
  anchor { kind sectionAnchorId blockAnchorId quote { exact prefix suffix start end } }
  author { id displayName } organization { id shortName name }
  viewerCanEdit viewerCanWithdraw viewerCanReply
  disposition { kind rationale }
  replies(first: 20) { totalCount nodes { id body withdrawn createdAt viewerCanEdit author { displayName } organization { shortName } } }`;

const CYCLE_COMMENTS = `query CycleComments($cycle: ID!, $after: String) {
  node(id: $cycle) { ... on ReviewCycle {
    id status visibility closesAt viewerCanComment viewerLateUntil
    comments(orderBy: DOCUMENT_ORDER, first: 40, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { ${COMMENT_FIELDS} }
    }
  } }
}`;

const REVISION_COMMENTS = `query RevisionComments($revision: ID!, $after: String) {
  node(id: $revision) { ... on Revision {
    comments(orderBy: DOCUMENT_ORDER, first: 40, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { ${COMMENT_FIELDS} }
    }
  } }
}`;

const EVENTS = `subscription Events($cycle: ID!) {
  cycleEvents(cycleId: $cycle) { kind at cycleStatus comment { id } reply { id } }
}`;

const M = {
  draft: `mutation($input: CreateCommentDraftInput!) { createCommentDraft(input: $input) { comment { id } } }`,
  submit: `mutation($input: SubmitCommentInput!) { submitComment(input: $input) { comment { id number } } }`,
  update: `mutation($input: UpdateCommentInput!) { updateComment(input: $input) { comment { id } } }`,
  withdraw: `mutation($input: CommentIdInput!) { withdrawComment(input: $input) { comment { id } } }`,
  remove: `mutation($input: CommentIdInput!) { deleteCommentDraft(input: $input) { deletedCommentId } }`,
  reply: `mutation($input: AddReplyInput!) { addReply(input: $input) { reply { id } } }`,
  updateReply: `mutation($input: UpdateReplyInput!) { updateReply(input: $input) { reply { id } } }`,
  withdrawReply: `mutation($input: ReplyIdInput!) { withdrawReply(input: $input) { reply { id } } }`,
};

const TYPES = ['GENERAL', 'TECHNICAL', 'EDITORIAL'];
const COMMENT_LANGUAGES = ['en', 'fr', 'es', 'ar', 'ru', 'zh'];
const MAX_PAGES = 125;

function errorText(err) {
  if (err.code === 'VALIDATION') return t('error.validation', { message: err.message });
  if (err.code === 'FORBIDDEN') return t('error.forbidden', { message: err.message });
  if (err.code === 'CONFLICT') return t('error.conflict', { message: err.message });
  if (err.code === 'UNAVAILABLE' || err.code === 'NETWORK') return t('error.unavailable');
  return t('error.generic', { message: err.message });
}

/** Consecutive blocks of one kind (list items, table rows) share a container. */
function groupBlocks(blocks) {
  const groups = [];
  for (const b of blocks) {
    const last = groups[groups.length - 1];
    if (last && last.kind === b.kind && (b.kind === 'LIST_ITEM' || b.kind === 'TABLE_ROW')) last.blocks.push(b);
    else groups.push({ kind: b.kind, blocks: [b] });
  }
  return groups;
}

export async function revisionPage(main, viewer, moduleId, number, url) {
  const data = await gql(PAGE_QUERY, { module: moduleId, n: number });
  const module = data.node;
  if (!module || !module.revision) {
    document.title = `${t('notFound.title')} · kitreview`;
    fill(main, h('h1', {}, t('notFound.title')), h('p', {}, h('a', { href: '/' }, t('nav.home'))));
    return { dispose() {} };
  }
  const revision = module.revision;
  const cycles = module.reviewCycles.filter((c) => c.revision.number === revision.number);
  const asked = url.searchParams.get('cycle');
  let cycle = cycles.find((c) => c.id === asked)
    || cycles.find((c) => c.status === 'OPEN')
    || cycles.find((c) => c.status === 'SCHEDULED')
    || cycles[cycles.length - 1] || null;

  const sections = revision.sections;
  const blockById = new Map();
  const sectionById = new Map();
  for (const s of sections) {
    sectionById.set(s.anchorId, s);
    for (const b of s.blocks) blockById.set(b.anchorId, { ...b, section: s });
  }

  document.title = `${t('revision.title', { module: module.title, number: revision.number })} · kitreview`;

  let comments = [];
  let live = null;
  const filters = { type: '', org: '', section: '', mine: false, block: '' };

  const docEl = h('article', { class: 'doc', 'aria-labelledby': 'doc-title' });
  const panel = h('aside', { class: 'panel', 'aria-labelledby': 'panel-title' });
  const banner = h('div', { class: 'banners' });
  const composer = h('div', { class: 'composer-slot' });
  const drafts = h('section', { class: 'drafts', 'aria-labelledby': 'drafts-title' });
  const list = h('ol', { class: 'comments', 'aria-labelledby': 'panel-title' });
  const filterBar = h('div', { class: 'filters' });
  const liveState = h('span', { class: 'live', role: 'status' });
  const selectButton = h('button', {
    type: 'button', class: 'select-comment primary', hidden: true,
    onmousedown: (e) => e.preventDefault(), // keep the selection
    onclick: () => commentOnSelection(),
  }, t('comment.onSelection'));

  const canComment = () => cycle && cycle.viewerCanComment;

  // ---- the document -------------------------------------------------------
  function renderBlock(b, tag) {
    const el = h(tag, { id: b.anchorId, class: `block block-${b.kind.toLowerCase()}`, 'data-block': b.anchorId });
    const body = h(b.kind === 'TABLE_ROW' ? 'tr' : 'div', { class: 'block-body', trustedHtml: b.html });
    if (b.kind === 'TABLE_ROW') {
      // a row's cells go straight into the <tr>
      el.replaceChildren(...body.childNodes);
      el.appendChild(h('td', { class: 'block-tools' }, blockTools(b)));
      return el;
    }
    el.append(body, h('div', { class: 'block-tools' }, blockTools(b)));
    return el;
  }

  function blockTools(b) {
    return [
      h('button', {
        type: 'button', class: 'badge', 'data-count-for': b.anchorId, hidden: true,
        onclick: () => setFilter({ block: b.anchorId }),
      }),
      canComment() ? h('button', {
        type: 'button', class: 'tool', 'aria-label': t('comment.onBlockLabel', { clause: b.section.clause || b.section.title }),
        onclick: () => openComposer({ target: { kind: 'BLOCK', block: b } }),
      }, t('comment.onBlock')) : null,
    ];
  }

  function renderDoc() {
    const parts = [
      h('header', { class: 'doc-head' },
        h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('nav.home')), ' › ',
          `${t('home.question')} ${module.kit.question.code}`, ' › ', module.kit.title),
        h('h1', { id: 'doc-title' }, t('revision.title', { module: module.title, number: revision.number })),
        h('p', { class: 'meta' }, t('revision.meta', {
          author: revision.author.displayName, date: dateTime(revision.createdAt), words: revision.wordCount,
        })),
        revision.summary ? h('details', { class: 'summary' }, h('summary', {}, t('revision.summary')), h('p', {}, revision.summary)) : null,
        h('nav', { class: 'revisions', 'aria-label': t('revision.others') },
          Array.from({ length: module.revisionCount }, (_, i) => i + 1).map((n) => (n === revision.number
            ? h('span', { class: 'current', 'aria-current': 'page' }, t('revision.short', { number: n }))
            : h('a', { href: revisionPath(module.id, n) }, t('revision.short', { number: n })))),
          revision.number > 1 ? h('a', { href: `/modules/${encodeURIComponent(module.id)}/diff?from=${revision.number - 1}&to=${revision.number}` }, t('revision.diffPrevious')) : null,
          revision.number > 1 ? h('a', { href: `${revisionPath(module.id, revision.number)}/carried` }, t('carried.link')) : null,
          module.viewerCanEdit && revision.number === module.revisionCount ? h('a', { href: `/modules/${encodeURIComponent(module.id)}/publish` }, t('publish.link')) : null)),
    ];
    for (const s of sections) {
      const level = Math.min(6, Math.max(2, s.level + 1));
      const blocks = s.blocks.map((b) => blockById.get(b.anchorId));
      parts.push(h('section', { class: 'doc-section', 'aria-labelledby': s.anchorId },
        h(`h${level}`, { id: s.anchorId, class: 'heading' },
          s.clause ? h('span', { class: 'clause' }, s.clause) : null, ' ', s.title,
          h('button', { type: 'button', class: 'badge', 'data-count-for': s.anchorId, hidden: true, onclick: () => setFilter({ section: s.anchorId, block: '' }) }),
          canComment() ? h('button', {
            type: 'button', class: 'tool', 'aria-label': t('comment.onSectionLabel', { clause: s.clause || s.title }),
            onclick: () => openComposer({ target: { kind: 'SECTION', section: s } }),
          }, t('comment.onSection')) : null),
        groupBlocks(blocks).map((g) => {
          if (g.kind === 'LIST_ITEM') {
            const ordered = /^\s*\d/.test(g.blocks[0].markdown);
            return h(ordered ? 'ol' : 'ul', { class: 'list' }, g.blocks.map((b) => renderBlock(b, 'li')));
          }
          if (g.kind === 'TABLE_ROW') {
            return h('div', { class: 'table-wrap' }, h('table', {}, h('tbody', {}, g.blocks.map((b) => renderBlock(b, 'tr')))));
          }
          return renderBlock(g.blocks[0], 'div');
        })));
    }
    fill(docEl, parts, selectButton);
  }

  // ---- banners ------------------------------------------------------------
  function renderBanner() {
    const items = [];
    if (!cycle) items.push(h('p', { class: 'banner' }, t('cycle.none')));
    else {
      items.push(h('p', { class: 'banner banner-info' },
        h('strong', {}, cycle.title), ' · ', t(`cycle.status.${cycle.status}`), ' · ',
        cycle.status === 'OPEN' ? [t('home.closes', { date: dateTime(cycle.closesAt) }), ' (', relative(cycle.closesAt), ')']
          : cycle.status === 'SCHEDULED' ? t('home.opens', { date: dateTime(cycle.opensAt) })
            : t('home.closed', { date: dateTime(cycle.closesAt) })));
      if (cycle.visibility === 'SEALED' && cycle.status !== 'CLOSED' && cycle.status !== 'CONSOLIDATED') {
        items.push(h('p', { class: 'banner banner-sealed', 'data-banner': 'sealed' }, t('cycle.sealed', { date: dateTime(cycle.closesAt) })));
      }
      if (cycle.status === 'CLOSED' || cycle.status === 'CONSOLIDATED') {
        items.push(h('p', { class: 'banner banner-closed', 'data-banner': 'closed' },
          cycle.viewerLateUntil && cycle.viewerCanComment
            ? t('cycle.closedLate', { org: viewer.organization.shortName, date: dateTime(cycle.viewerLateUntil) })
            : t('cycle.closedNoComments')));
      }
      if (cycle.viewerCanManage && cycle.status !== 'SCHEDULED') {
        items.push(h('p', {}, h('a', { href: `/cycles/${encodeURIComponent(cycle.id)}/consolidation` }, t('consolidate.open'))));
      }
      if (cycles.length > 1) {
        items.push(h('label', { class: 'cycle-pick' }, t('cycle.pick'), ' ',
          h('select', {
            onchange: (e) => { location.search = `?cycle=${encodeURIComponent(e.target.value)}`; },
          }, cycles.map((c) => h('option', { value: c.id, selected: c.id === cycle.id }, c.title)))));
      }
    }
    if (isSecretariat(viewer) && !cycles.some((c) => c.status === 'OPEN' || c.status === 'SCHEDULED')) {
      const slot = h('div', { class: 'open-cycle' });
      openCycleForm(slot, module, revision, (id) => { location.href = `${revisionPath(module.id, revision.number)}?cycle=${encodeURIComponent(id)}`; });
      items.push(h('details', { class: 'admin' }, h('summary', {}, t('manage.openTitle')), slot));
    }
    if (canComment()) {
      items.push(importForm());
      items.push(h('p', { class: 'hint' }, t('comment.hint')),
        h('button', { type: 'button', class: 'secondary', onclick: () => openComposer({ target: { kind: 'DOCUMENT' } }) }, t('comment.onDocument')));
    }
    fill(banner, items);
  }

  /** A delegation that worked offline uploads its filled-in template. */
  function importForm() {
    const file = h('input', { id: 'i-file', type: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    const result = h('div', { class: 'import-result', role: 'status' });
    const key = randomKey();
    return h('details', { class: 'import' }, h('summary', {}, t('import.title')),
      h('p', { class: 'help' }, t('import.help')),
      h('form', {
        onsubmit: async (e) => {
          e.preventDefault();
          const f = file.files[0];
          if (!f) { fill(result, h('p', { class: 'error' }, t('import.pick'))); return; }
          const button = e.target.querySelector('button');
          button.disabled = true;
          try {
            const r = await upload(`/imports/cycles/${encodeURIComponent(cycle.id)}/comments`, f, `${key}-${f.name}-${f.size}-${f.lastModified}`);
            if (r.ok) {
              fill(result, h('p', {}, t('import.done', { count: r.body.imported, numbers: r.body.comments.map((c) => c.number).join(', ') })));
              await loadComments();
            } else {
              const errors = (r.body && r.body.errors) || [];
              const rows = errors.filter((x) => x.extensions && x.extensions.row);
              fill(result,
                h('p', { class: 'error' }, rows.length ? t('import.rowsRefused', { count: rows.length }) : t('error.generic', { message: errors.length ? errors[0].message : `HTTP ${r.status}` })),
                rows.length ? h('table', { class: 'import-errors' },
                  h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('import.row')), h('th', { scope: 'col' }, t('import.column')), h('th', { scope: 'col' }, t('import.problem')))),
                  h('tbody', {}, rows.map((x) => h('tr', {}, h('td', {}, String(x.extensions.row)), h('td', {}, x.extensions.column || '—'), h('td', {}, x.message))))) : null);
            }
          } catch (err) {
            fill(result, h('p', { class: 'error' }, errorText(err)));
          }
          button.disabled = false;
        },
      }, h('label', { for: 'i-file' }, t('import.file')), file,
      h('p', { class: 'buttons' }, h('button', { type: 'submit', class: 'secondary' }, t('import.button')))),
      result);
  }

  // ---- comments -----------------------------------------------------------
  function anchorLabel(a) {
    if (a.kind === 'DOCUMENT') return t('anchor.document');
    const s = sectionById.get(a.sectionAnchorId) || (blockById.get(a.blockAnchorId) || {}).section;
    const where = s ? (s.clause ? `${s.clause} ${s.title}` : s.title) : (a.sectionAnchorId || a.blockAnchorId || '?');
    if (a.kind === 'SECTION') return t('anchor.section', { where });
    if (a.kind === 'BLOCK') return t('anchor.block', { where });
    return t('anchor.quote', { where });
  }

  function sectionOf(c) {
    const a = c.anchor;
    if (a.sectionAnchorId) return a.sectionAnchorId;
    const b = blockById.get(a.blockAnchorId);
    return b ? b.section.anchorId : '';
  }

  function visibleInList(c) {
    if (c.state === 'DRAFT') return false;
    if (filters.type && c.type !== filters.type) return false;
    if (filters.org && c.organization.id !== filters.org) return false;
    if (filters.section && sectionOf(c) !== filters.section) return false;
    if (filters.block && c.anchor.blockAnchorId !== filters.block) return false;
    if (filters.mine && c.author.id !== viewer.id) return false;
    return true;
  }

  function setFilter(change) {
    Object.assign(filters, change);
    renderFilters();
    renderList();
    list.focus();
  }

  function renderFilters() {
    const orgs = new Map();
    for (const c of comments) orgs.set(c.organization.id, c.organization.shortName);
    const select = (id, label, key, options) => [
      h('label', { for: id }, label),
      h('select', { id, onchange: (e) => setFilter({ [key]: e.target.value }) },
        h('option', { value: '' }, t('filter.all')),
        options.map(([v, text]) => h('option', { value: v, selected: filters[key] === v }, text))),
    ];
    fill(filterBar,
      h('div', { class: 'filter' }, select('f-type', t('filter.type'), 'type', TYPES.map((x) => [x, t(`type.${x}`)]))),
      h('div', { class: 'filter' }, select('f-org', t('filter.organization'), 'org', [...orgs].sort((a, b) => a[1].localeCompare(b[1])))),
      h('div', { class: 'filter' }, select('f-section', t('filter.section'), 'section', sections.map((s) => [s.anchorId, s.clause ? `${s.clause} ${s.title}` : s.title]))),
      h('div', { class: 'filter filter-check' },
        h('input', { id: 'f-mine', type: 'checkbox', checked: filters.mine, onchange: (e) => setFilter({ mine: e.target.checked }) }),
        h('label', { for: 'f-mine' }, t('filter.mine'))),
      filters.block ? h('button', { type: 'button', class: 'link', onclick: () => setFilter({ block: '' }) },
        t('filter.clearBlock', { where: anchorLabel({ kind: 'BLOCK', blockAnchorId: filters.block }) })) : null);
  }

  function renderCounts() {
    const counts = new Map();
    for (const c of comments) {
      if (c.state === 'WITHDRAWN') continue;
      const key = c.anchor.blockAnchorId || (c.anchor.kind === 'SECTION' ? c.anchor.sectionAnchorId : null);
      if (key) counts.set(key, (counts.get(key) || 0) + 1);
    }
    for (const el of docEl.querySelectorAll('[data-count-for]')) {
      const n = counts.get(el.dataset.countFor) || 0;
      el.hidden = n === 0;
      el.textContent = String(n);
      el.setAttribute('aria-label', t('comments.count', { count: n }));
    }
  }

  /** Mark the quoted passages of the visible comments in the text. */
  function renderMarks() {
    for (const m of docEl.querySelectorAll('mark.quoted')) m.replaceWith(...m.childNodes);
    docEl.normalize();
    for (const c of comments) {
      const q = c.anchor.quote;
      if (!q || c.state === 'WITHDRAWN') continue;
      const el = document.getElementById(c.anchor.blockAnchorId);
      const body = el && (el.querySelector('.block-body') || el);
      if (!body) continue;
      const found = locate(body.textContent, q.exact, q.start);
      if (found.error) continue;
      const range = rangeAt(body, found.quote.start, found.quote.end);
      if (!range) continue;
      const mark = h('mark', { class: 'quoted', title: c.number ? t('comment.no', { number: c.number }) : t('comment.draft') });
      try { range.surroundContents(mark); } catch { /* the passage crosses formatting: left unmarked */ }
    }
  }

  /** A DOM range over code points [start, end) of `el`'s text. */
  function rangeAt(el, start, end) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0;
    let begun = false;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const cps = Array.from(n.data);
      const unitsAt = (k) => cps.slice(0, k).join('').length;
      if (!begun && start < seen + cps.length) { range.setStart(n, unitsAt(start - seen)); begun = true; }
      if (begun && end <= seen + cps.length) { range.setEnd(n, unitsAt(end - seen)); return range; }
      seen += cps.length;
    }
    return null;
  }

  function goTo(anchor) {
    const id = anchor.blockAnchorId || anchor.sectionAnchorId;
    const el = id && document.getElementById(id);
    if (!el) return;
    history.replaceState(null, '', `#${id}`);
    el.scrollIntoView({ block: 'center' });
    el.classList.add('flash');
    setTimeout(() => el.classList.remove('flash'), 2000);
  }

  function commentCard(c) {
    const replies = c.replies.nodes;
    const actions = [];
    if (c.viewerCanReply) actions.push(h('button', { type: 'button', class: 'link', onclick: (e) => openReply(c, e.target) }, t('comment.reply')));
    if (c.viewerCanEdit && c.state !== 'DRAFT') actions.push(h('button', { type: 'button', class: 'link', onclick: () => openComposer({ edit: c }) }, t('comment.edit')));
    if (c.viewerCanWithdraw) actions.push(h('button', { type: 'button', class: 'link danger', onclick: () => withdraw(c) }, t('comment.withdraw')));
    return h('li', { class: `comment comment-${c.state.toLowerCase()}`, id: `comment-${c.id}`, 'data-number': c.number ?? '' },
      h('article', { 'aria-label': c.number ? t('comment.numbered', { number: c.number }) : t('comment.draft') },
        h('header', { class: 'comment-head' },
          h('span', { class: 'number' }, c.number ? t('comment.no', { number: c.number }) : t('comment.draft')),
          h('span', { class: `pill type-${c.typeCode}`, title: t(`type.${c.type}.help`) }, `${c.typeCode} · ${t(`type.${c.type}`)}`),
          h('span', { class: 'org' }, c.organization.shortName),
          c.late ? h('span', { class: 'pill' }, t('comment.late')) : null,
          c.state === 'WITHDRAWN' ? h('span', { class: 'pill' }, t('comment.withdrawn')) : null),
        h('p', { class: 'where' }, h('button', { type: 'button', class: 'link', onclick: () => goTo(c.anchor) }, anchorLabel(c.anchor))),
        c.anchor.quote ? h('blockquote', { class: 'quote' }, c.anchor.quote.exact) : null,
        h('div', { class: 'body', lang: c.language || null }, c.body),
        c.proposedChange ? h('div', { class: 'proposed' }, h('strong', {}, t('comment.proposedChange')), ' ', c.proposedChange) : null,
        h('p', { class: 'meta' }, c.author.displayName, ' · ', relative(c.submittedAt || c.createdAt),
          c.updatedAt !== c.createdAt && c.submittedAt && c.updatedAt > c.submittedAt ? [' · ', t('comment.edited')] : null),
        c.disposition ? h('p', { class: 'disposition' }, t('comment.disposition', { kind: t(`disposition.${c.disposition.kind}`) }), c.disposition.rationale ? ` — ${c.disposition.rationale}` : '') : null,
        replies.length ? h('ol', { class: 'replies', 'aria-label': t('comment.replies', { count: c.replies.totalCount }) },
          replies.map((r) => h('li', { class: r.withdrawn ? 'reply withdrawn' : 'reply' },
            h('p', {}, r.withdrawn ? h('em', {}, t('reply.withdrawn')) : r.body),
            h('p', { class: 'meta' }, `${r.author.displayName} (${r.organization.shortName}) · `, relative(r.createdAt),
              r.viewerCanEdit && !r.withdrawn ? [' · ', h('button', { type: 'button', class: 'link', onclick: (e) => editReply(r, e.target) }, t('comment.edit')),
                ' · ', h('button', { type: 'button', class: 'link danger', onclick: () => withdrawReply(r) }, t('comment.withdraw'))] : null)))) : null,
        actions.length ? h('p', { class: 'actions' }, actions) : null));
  }

  function renderList() {
    const shown = comments.filter(visibleInList);
    fill(list, shown.length ? shown.map(commentCard)
      : h('li', { class: 'empty' }, comments.some((c) => c.state !== 'DRAFT') ? t('comments.noneMatch') : t('comments.none')));
    document.getElementById('panel-count').textContent = t('comments.count', { count: comments.filter((c) => c.state !== 'DRAFT').length });
  }

  function renderDrafts() {
    const mine = comments.filter((c) => c.state === 'DRAFT' && c.author.id === viewer.id);
    if (!mine.length) { fill(drafts); drafts.hidden = true; return; }
    drafts.hidden = false;
    fill(drafts,
      h('h3', { id: 'drafts-title' }, t('drafts.title', { count: mine.length })),
      h('p', { class: 'meta' }, t('drafts.explain')),
      h('ol', { class: 'draft-list' }, mine.map((c) => h('li', { class: 'draft', id: `comment-${c.id}` },
        h('p', { class: 'where' }, h('span', { class: `pill type-${c.typeCode}` }, c.typeCode), ' ',
          h('button', { type: 'button', class: 'link', onclick: () => goTo(c.anchor) }, anchorLabel(c.anchor))),
        c.anchor.quote ? h('blockquote', { class: 'quote' }, c.anchor.quote.exact) : null,
        h('p', { class: 'body' }, c.body),
        h('p', { class: 'actions' },
          h('button', { type: 'button', class: 'link', onclick: () => openComposer({ edit: c }) }, t('comment.edit')),
          h('button', { type: 'button', class: 'link danger', onclick: () => removeDraft(c) }, t('drafts.delete')),
          canComment() ? h('button', { type: 'button', class: 'secondary', onclick: () => submitDrafts([c]) }, t('drafts.submit')) : null)))),
      canComment() ? h('button', { type: 'button', class: 'primary', id: 'submit-review', onclick: () => submitDrafts(mine) }, t('drafts.submitAll', { count: mine.length })) : null);
  }

  async function loadComments() {
    const all = [];
    let after = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const d = cycle
        ? await gql(CYCLE_COMMENTS, { cycle: cycle.id, after })
        : await gql(REVISION_COMMENTS, { revision: revision.id, after });
      const node = d.node;
      if (!node) break;
      if (cycle) Object.assign(cycle, { status: node.status, viewerCanComment: node.viewerCanComment, viewerLateUntil: node.viewerLateUntil, closesAt: node.closesAt });
      all.push(...node.comments.nodes);
      if (!node.comments.pageInfo.hasNextPage) break;
      after = node.comments.pageInfo.endCursor;
    }
    comments = all;
    renderFilters();
    renderDrafts();
    renderList();
    renderCounts();
    renderMarks();
  }

  // ---- composing ----------------------------------------------------------
  function targetLabel(target) {
    if (target.kind === 'DOCUMENT') return t('anchor.document');
    if (target.kind === 'SECTION') return anchorLabel({ kind: 'SECTION', sectionAnchorId: target.section.anchorId });
    return anchorLabel({ kind: target.quote ? 'QUOTE' : 'BLOCK', blockAnchorId: target.block.anchorId });
  }

  function anchorInput(target) {
    if (target.kind === 'DOCUMENT') return { kind: 'DOCUMENT' };
    if (target.kind === 'SECTION') return { kind: 'SECTION', sectionAnchorId: target.section.anchorId };
    if (target.quote) return { kind: 'QUOTE', blockAnchorId: target.block.anchorId, quote: target.quote };
    return { kind: 'BLOCK', blockAnchorId: target.block.anchorId };
  }

  function closeComposer(returnFocus) {
    fill(composer);
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
  }

  /** The comment form: a new comment on `target`, or `edit` an existing one. */
  function openComposer({ target, edit }) {
    const returnFocus = document.activeElement;
    if (edit) {
      const a = edit.anchor;
      target = a.kind === 'DOCUMENT' ? { kind: 'DOCUMENT' }
        : a.kind === 'SECTION' ? { kind: 'SECTION', section: sectionById.get(a.sectionAnchorId) }
          : { kind: 'BLOCK', block: blockById.get(a.blockAnchorId), quote: a.quote ? { ...a.quote } : null };
    }
    const key = randomKey();
    const error = h('p', { class: 'error', role: 'alert', id: 'composer-error' });
    const typeName = 'c-type';
    const types = h('fieldset', { class: 'types' }, h('legend', {}, t('comment.type')),
      TYPES.map((x) => h('div', { class: 'type-choice' },
        h('input', { type: 'radio', name: typeName, id: `c-type-${x}`, value: x, checked: (edit ? edit.type : 'TECHNICAL') === x, 'aria-describedby': `c-type-${x}-help` }),
        h('label', { for: `c-type-${x}` }, h('strong', {}, `${t(`type.${x}.code`)} · ${t(`type.${x}`)}`)),
        h('p', { class: 'help', id: `c-type-${x}-help` }, t(`type.${x}.help`)))));
    const body = h('textarea', { id: 'c-body', rows: 5, required: true, maxlength: 20000, value: edit ? edit.body : '' });
    const proposed = h('textarea', { id: 'c-proposed', rows: 3, maxlength: 20000, value: edit ? (edit.proposedChange || '') : '' });
    const lang = h('select', { id: 'c-lang' }, COMMENT_LANGUAGES.map((l) => h('option', {
      value: l, selected: (edit ? edit.language || language() : language()) === l,
    }, new Intl.DisplayNames([language()], { type: 'language' }).of(l))));
    const quoteInput = target.kind === 'BLOCK' ? h('input', {
      id: 'c-quote', type: 'text', value: target.quote ? target.quote.exact : '', 'aria-describedby': 'c-quote-help',
    }) : null;
    const submitNow = !edit && canComment();
    const form = h('form', {
      class: 'composer card', 'aria-labelledby': 'composer-title', 'aria-describedby': 'composer-error',
      onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); closeComposer(returnFocus); } },
      onsubmit: async (e) => {
        e.preventDefault();
        const action = e.submitter ? e.submitter.value : 'draft';
        error.textContent = '';
        // the quote typed or pasted: found in the block, forgiving typography
        if (quoteInput) {
          const typed = quoteInput.value.trim();
          if (!typed) target.quote = null;
          else if (!target.quote || typed !== target.quote.exact) {
            const found = locate(target.block.text, typed);
            if (found.error) {
              error.textContent = t(`quote.${found.error}`, { count: found.count || 0 });
              quoteInput.focus();
              return;
            }
            target.quote = found.quote;
            quoteInput.value = found.quote.exact;
          }
        }
        if (!body.value.trim()) { error.textContent = t('comment.bodyRequired'); body.focus(); return; }
        const type = form.querySelector(`input[name=${typeName}]:checked`).value;
        const fields = {
          type, body: body.value, proposedChange: proposed.value.trim() ? proposed.value : null, language: lang.value,
        };
        for (const b of form.querySelectorAll('button')) b.disabled = true;
        try {
          if (edit) {
            await gql(M.update, { input: { commentId: edit.id, ...fields, anchor: anchorInput(target) } });
            announce(t('comment.saved'));
          } else if (action === 'submit') {
            const r = await gql(M.submit, { input: { cycleId: cycle.id, anchor: anchorInput(target), ...fields, idempotencyKey: key } });
            announce(t('comment.submitted', { number: r.submitComment.comment.number }));
          } else {
            await gql(M.draft, { input: { cycleId: cycle.id, anchor: anchorInput(target), ...fields, idempotencyKey: key } });
            announce(t('comment.draftSaved'));
          }
          closeComposer(null);
          await loadComments();
          const first = drafts.querySelector('button') || list;
          if (returnFocus && returnFocus.isConnected) returnFocus.focus(); else first.focus();
        } catch (err) {
          error.textContent = errorText(err);
          for (const b of form.querySelectorAll('button')) b.disabled = false;
        }
      },
    },
    h('h3', { id: 'composer-title' }, edit ? t('comment.editTitle') : t('comment.newTitle')),
    h('p', { class: 'target' }, t('comment.on'), ' ', h('strong', {}, targetLabel(target))),
    target.kind === 'BLOCK' ? h('blockquote', { class: 'quote context' }, target.block.text.length > 240 ? `${target.block.text.slice(0, 240)}…` : target.block.text) : null,
    quoteInput ? [h('label', { for: 'c-quote' }, t('comment.quote')), quoteInput, h('p', { class: 'help', id: 'c-quote-help' }, t('comment.quoteHelp'))] : null,
    types,
    h('label', { for: 'c-body' }, t('comment.body')), body,
    h('label', { for: 'c-proposed' }, t('comment.proposedChange')), proposed,
    h('label', { for: 'c-lang' }, t('comment.language')), lang,
    error,
    h('p', { class: 'buttons' },
      edit ? h('button', { type: 'submit', class: 'primary', value: 'save' }, t('comment.save'))
        : [h('button', { type: 'submit', class: 'secondary', value: 'draft' }, t('comment.saveDraft')),
          submitNow ? h('button', { type: 'submit', class: 'primary', value: 'submit' }, t('comment.submitNow')) : null],
      h('button', { type: 'button', class: 'link', onclick: () => closeComposer(returnFocus) }, t('comment.cancel'))));
    fill(composer, form);
    form.scrollIntoView({ block: 'nearest' });
    body.focus();
  }

  function selectionTarget() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
    const range = sel.getRangeAt(0);
    const start = range.startContainer.parentElement && range.startContainer.parentElement.closest('[data-block]');
    const end = range.endContainer.parentElement && range.endContainer.parentElement.closest('[data-block]');
    if (!start || start !== end || !docEl.contains(start)) return { error: 'quote.oneBlock' };
    const block = blockById.get(start.dataset.block);
    const bodyEl = start.querySelector('.block-body') || start;
    const found = locate(block.text, range.toString(), offsetIn(bodyEl, range));
    if (found.error) return { error: `quote.${found.error}`, count: found.count };
    return { block, quote: found.quote, rect: range.getBoundingClientRect() };
  }

  function onSelection() {
    if (!canComment()) return;
    const s = selectionTarget();
    if (!s || s.error) { selectButton.hidden = true; return; }
    const box = docEl.getBoundingClientRect();
    selectButton.style.top = `${s.rect.bottom - box.top + 6}px`;
    selectButton.style.left = `${Math.max(0, s.rect.left - box.left)}px`;
    selectButton.hidden = false;
  }

  function commentOnSelection() {
    const s = selectionTarget();
    selectButton.hidden = true;
    if (!s) return;
    if (s.error) { announce(t(s.error, { count: s.count || 0 }), 'error'); return; }
    openComposer({ target: { kind: 'BLOCK', block: s.block, quote: s.quote } });
  }

  // ---- other actions ------------------------------------------------------
  async function run(mutation, input, done) {
    try {
      const r = await gql(mutation, { input });
      if (done) announce(done(r));
      await loadComments();
    } catch (err) {
      announce(errorText(err), 'error');
    }
  }

  async function submitDrafts(items) {
    const numbers = [];
    const failed = [];
    for (const c of items) {
      try {
        const r = await gql(M.submit, { input: { commentId: c.id } });
        numbers.push(r.submitComment.comment.number);
      } catch (err) {
        failed.push(errorText(err));
      }
    }
    await loadComments();
    if (numbers.length) announce(t('drafts.submitted', { count: numbers.length, numbers: numbers.join(', ') }));
    if (failed.length) announce(t('drafts.failed', { count: failed.length, message: failed[0] }), 'error');
    list.focus();
  }

  function removeDraft(c) {
    if (!window.confirm(t('drafts.confirmDelete'))) return;
    run(M.remove, { commentId: c.id }, () => t('drafts.deleted'));
  }

  function withdraw(c) {
    if (!window.confirm(t('comment.confirmWithdraw', { number: c.number }))) return;
    run(M.withdraw, { commentId: c.id }, () => t('comment.withdrawnDone', { number: c.number }));
  }

  function withdrawReply(r) {
    if (!window.confirm(t('reply.confirmWithdraw'))) return;
    run(M.withdrawReply, { replyId: r.id }, () => t('reply.withdrawnDone'));
  }

  function inlineForm(anchorEl, label, initial, onSave) {
    const existing = anchorEl.closest('li').querySelector('.inline-form');
    if (existing) { existing.querySelector('textarea').focus(); return; }
    const id = `f-${randomKey().slice(0, 8)}`;
    const text = h('textarea', { id, rows: 3, required: true, maxlength: 20000, value: initial });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', {
      class: 'inline-form',
      onkeydown: (e) => { if (e.key === 'Escape') { form.remove(); anchorEl.focus(); } },
      onsubmit: async (e) => {
        e.preventDefault();
        if (!text.value.trim()) { error.textContent = t('comment.bodyRequired'); return; }
        try { await onSave(text.value); await loadComments(); } catch (err) { error.textContent = errorText(err); }
      },
    }, h('label', { for: id }, label), text, error,
    h('p', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('comment.save')),
      h('button', { type: 'button', class: 'link', onclick: () => { form.remove(); anchorEl.focus(); } }, t('comment.cancel'))));
    anchorEl.closest('li').appendChild(form);
    text.focus();
  }

  function openReply(c, button) {
    const key = randomKey();
    inlineForm(button, t('reply.label', { number: c.number }), '', async (body) => {
      await gql(M.reply, { input: { commentId: c.id, body, idempotencyKey: key } });
      announce(t('reply.added'));
    });
  }

  function editReply(r, button) {
    inlineForm(button, t('reply.editLabel'), r.body, async (body) => {
      await gql(M.updateReply, { input: { replyId: r.id, body } });
      announce(t('comment.saved'));
    });
  }

  // ---- live updates -------------------------------------------------------
  let reloadTimer = null;
  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => loadComments().catch(() => {}), 250);
  }

  function startLive() {
    if (!cycle || cycle.status === 'CONSOLIDATED') return;
    live = new Live(EVENTS, { cycle: cycle.id }, (d) => {
      const ev = d.cycleEvents;
      if (ev.kind === 'CYCLE_STATUS_CHANGED') {
        cycle.status = ev.cycleStatus || cycle.status;
        announce(t('live.cycleStatus', { status: t(`cycle.status.${cycle.status}`) }));
        loadComments().then(() => { renderBanner(); renderDoc(); renderCounts(); }).catch(() => {});
        return;
      }
      reloadSoon();
    }, (state, info) => {
      liveState.textContent = state === 'up' ? t('live.up') : t('live.down');
      liveState.className = `live live-${state}`;
      if (state === 'up' && info.reconnected) reloadSoon();
    });
  }

  // ---- the page -----------------------------------------------------------
  fill(panel,
    h('div', { class: 'panel-head' },
      h('h2', { id: 'panel-title' }, t('comments.title'), ' ', h('span', { id: 'panel-count', class: 'meta' })),
      liveState),
    banner, composer, drafts, filterBar, list);
  list.tabIndex = -1;
  fill(main, h('div', { class: 'workspace' }, docEl, panel));
  renderDoc();
  renderBanner();
  await loadComments();
  startLive();

  docEl.addEventListener('mouseup', () => setTimeout(onSelection, 0));
  docEl.addEventListener('keyup', (e) => { if (e.shiftKey || e.key === 'Shift') onSelection(); });
  const onSelChange = () => { const s = window.getSelection(); if (!s || s.isCollapsed) selectButton.hidden = true; };
  document.addEventListener('selectionchange', onSelChange);

  if (location.hash) {
    const el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (el) { el.scrollIntoView({ block: 'center' }); el.classList.add('flash'); }
  }

  return {
    dispose() {
      if (live) live.stop();
      clearTimeout(reloadTimer);
      document.removeEventListener('selectionchange', onSelChange);
    },
  };
}
