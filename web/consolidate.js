// The consolidation table of a cycle, for its question's rapporteurs and the
// secretariat: every comment in document order with its disposition, decided
// inline (one row or many at once), keyboard first; live decisions of the
// other rapporteurs; downloads; "mark consolidated".

import { h, fill, announce } from './dom.js';
import { t, dateTime, number } from './i18n.js';
import { gql, Live } from './api.js';
import { revisionPath } from './home.js';
import { cycleAdmin, isSecretariat } from './manage.js';

const KINDS = ['ACCEPTED', 'ACCEPTED_IN_PRINCIPLE', 'REJECTED', 'NOTED', 'DUPLICATE', 'WITHDRAWN'];
const KEYS = { a: 'ACCEPTED', p: 'ACCEPTED_IN_PRINCIPLE', r: 'REJECTED', n: 'NOTED', d: 'DUPLICATE', w: 'WITHDRAWN' };
const TYPES = ['GENERAL', 'TECHNICAL', 'EDITORIAL'];

const CYCLE = `query Cycle($cycle: ID!) {
  node(id: $cycle) { ... on ReviewCycle {
    id title status visibility closesAt viewerCanManage
    module { id title kit { title question { code } } }
    revision { id number sections { anchorId clause title } }
  } }
}`;

const PROGRESS = `query Progress($cycle: ID!) {
  node(id: $cycle) { ... on ReviewCycle {
    status
    progress {
      total submitted withdrawn decided remaining
      byDisposition { kind count }
      byType { type count remaining }
      byOrganization { organization { id shortName } count remaining }
    }
  } }
}`;

const ROWS = `query Rows($cycle: ID!, $after: String) {
  node(id: $cycle) { ... on ReviewCycle {
    consolidatedTable(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number organization clause location typeCode body proposedChange disposition rationale
        comment {
          id type state dispositionVersion
          anchor { sectionAnchorId blockAnchorId }
          organization { id }
          replies(first: 5) { totalCount nodes { body author { displayName } organization { shortName } } }
          disposition {
            kind rationale decidedAt duplicateOf { id number } decidedBy { displayName }
            history { changedAt changedBy { displayName } after { kind rationale } }
          }
        }
      }
    }
  } }
}`;

const SET = `mutation($input: SetDispositionsInput!) {
  setDispositions(input: $input) { comments { id } }
}`;
const CONSOLIDATED = `mutation($input: CycleIdInput!) { markCycleConsolidated(input: $input) { cycle { id status } } }`;
const EVENTS = `subscription($cycle: ID!) { cycleEvents(cycleId: $cycle) { kind comment { id } } }`;

function errorText(err) {
  if (err.code === 'CONFLICT') return t('consolidate.stale', { message: err.message });
  return err.code === 'VALIDATION' ? t('error.validation', { message: err.message })
    : t('error.generic', { message: err.message });
}

export async function consolidatePage(main, viewer, cycleId) {
  const { node: cycle } = await gql(CYCLE, { cycle: cycleId });
  if (!cycle) {
    fill(main, h('h1', {}, t('notFound.title')));
    return { dispose() {} };
  }
  document.title = `${t('consolidate.title')} · ${cycle.module.title} · kitreview`;
  if (!cycle.viewerCanManage) {
    fill(main, h('h1', {}, t('consolidate.title')),
      h('p', { class: 'error', role: 'alert', 'data-refused': '' }, t('consolidate.forbidden')));
    return { dispose() {} };
  }
  const sections = new Map(cycle.revision.sections.map((s) => [s.anchorId, s]));
  let rows = [];
  let live = null;
  const dirty = new Map(); // comment id → { kind, rationale, duplicateOf } being edited
  const selected = new Set();
  const filters = { type: '', org: '', section: '', disposition: '', undecided: false, text: '' };

  const progressEl = h('section', { class: 'card progress', 'aria-labelledby': 'progress-h' });
  const filterEl = h('div', { class: 'filters' });
  const bulkEl = h('div', { class: 'bulk', role: 'region', 'aria-label': t('consolidate.bulk') });
  const tbody = h('tbody', {});
  const countEl = h('p', { class: 'meta', role: 'status' });
  const liveState = h('span', { class: 'live', role: 'status' });
  const adminEl = h('section', { class: 'card admin', 'aria-labelledby': 'admin-h' });

  async function loadAdmin() {
    if (!isSecretariat(viewer)) { adminEl.hidden = true; return; }
    const { node } = await gql(CYCLE, { cycle: cycleId });
    Object.assign(cycle, { status: node.status, closesAt: node.closesAt });
    await cycleAdmin(adminEl, cycle, () => Promise.all([loadAdmin(), loadProgress()]).catch(() => {}));
  }

  // ---- progress -----------------------------------------------------------
  async function loadProgress() {
    const d = await gql(PROGRESS, { cycle: cycleId });
    cycle.status = d.node.status;
    const p = d.node.progress;
    if (!p) { fill(progressEl); return; }
    const total = p.decided + p.remaining;
    const pct = total ? Math.round((p.decided / total) * 100) : 100;
    fill(progressEl,
      h('h2', { id: 'progress-h' }, t('consolidate.progress', { decided: p.decided, total, remaining: p.remaining })),
      h('progress', { max: Math.max(1, total), value: p.decided, 'aria-labelledby': 'progress-h' }, `${pct}%`),
      h('div', { class: 'progress-parts' },
        h('div', {}, h('h3', {}, t('consolidate.byDisposition')), h('ul', {}, p.byDisposition.map((x) => h('li', {}, `${t(`disposition.${x.kind}`)}: ${number(x.count)}`)))),
        h('div', {}, h('h3', {}, t('consolidate.byType')), h('ul', {}, p.byType.map((x) => h('li', {}, t('consolidate.remainingOf', { what: t(`type.${x.type}`), count: x.count, remaining: x.remaining }))))),
        h('div', {}, h('h3', {}, t('consolidate.byOrganization')), h('ul', {}, p.byOrganization.map((x) => h('li', {}, t('consolidate.remainingOf', { what: x.organization.shortName, count: x.count, remaining: x.remaining })))))),
      h('p', { class: 'buttons' },
        h('a', { href: `/exports/cycles/${encodeURIComponent(cycleId)}/comments.xlsx`, download: '', class: 'button' }, t('consolidate.xlsx')),
        h('a', { href: `/exports/cycles/${encodeURIComponent(cycleId)}/comments.csv`, download: '', class: 'button' }, t('consolidate.csv')),
        cycle.status === 'CLOSED' ? h('button', {
          type: 'button', class: 'primary', id: 'mark-consolidated', disabled: p.remaining > 0,
          'aria-describedby': p.remaining > 0 ? 'mark-why' : null, onclick: () => markConsolidated(),
        }, t('consolidate.mark')) : null,
        cycle.status === 'CLOSED' && p.remaining > 0 ? h('span', { id: 'mark-why', class: 'meta' }, t('consolidate.markNeeds', { count: p.remaining })) : null,
        cycle.status === 'CONSOLIDATED' ? h('strong', {}, t('cycle.status.CONSOLIDATED')) : null,
        cycle.status === 'OPEN' || cycle.status === 'SCHEDULED' ? h('span', { class: 'meta' }, t('consolidate.stillOpen', { date: dateTime(cycle.closesAt) })) : null));
  }

  async function markConsolidated() {
    if (!window.confirm(t('consolidate.confirm'))) return;
    try {
      await gql(CONSOLIDATED, { input: { cycleId } });
      announce(t('consolidate.marked'));
      await loadProgress();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  // ---- rows ---------------------------------------------------------------
  async function loadRows() {
    const all = [];
    let after = null;
    for (let page = 0; page < 100; page += 1) {
      const d = await gql(ROWS, { cycle: cycleId, after });
      const c = d.node.consolidatedTable;
      all.push(...c.nodes);
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    rows = all;
    for (const id of [...selected]) if (!rows.some((r) => r.comment.id === id)) selected.delete(id);
    renderFilters();
    renderRows();
    renderBulk();
  }

  function sectionOf(r) {
    return r.comment.anchor.sectionAnchorId || '';
  }

  function shown(r) {
    if (filters.type && r.comment.type !== filters.type) return false;
    if (filters.org && r.comment.organization.id !== filters.org) return false;
    if (filters.section && sectionOf(r) !== filters.section) return false;
    if (filters.disposition && r.disposition !== filters.disposition) return false;
    if (filters.undecided && r.disposition) return false;
    if (filters.text) {
      const hay = `${r.body} ${r.proposedChange} ${r.rationale} ${r.organization} ${r.clause}`.toLowerCase();
      if (!hay.includes(filters.text.toLowerCase())) return false;
    }
    return true;
  }

  function renderFilters() {
    const orgs = new Map();
    for (const r of rows) orgs.set(r.comment.organization.id, r.organization);
    const select = (id, label, key, options) => h('div', { class: 'filter' },
      h('label', { for: id }, label),
      h('select', { id, onchange: (e) => { filters[key] = e.target.value; renderRows(); } },
        h('option', { value: '' }, t('filter.all')),
        options.map(([v, text]) => h('option', { value: v, selected: filters[key] === v }, text))));
    const text = h('input', {
      id: 'f-text', type: 'search', value: filters.text,
      oninput: (e) => { filters.text = e.target.value; renderRows(); },
    });
    fill(filterEl,
      select('f-type', t('filter.type'), 'type', TYPES.map((x) => [x, t(`type.${x}`)])),
      select('f-org', t('filter.organization'), 'org', [...orgs].sort((a, b) => a[1].localeCompare(b[1]))),
      select('f-section', t('filter.section'), 'section', [...sections.values()].map((s) => [s.anchorId, s.clause ? `${s.clause} ${s.title}` : s.title])),
      select('f-disposition', t('consolidate.disposition'), 'disposition', KINDS.map((k) => [k, t(`disposition.${k}`)])),
      h('div', { class: 'filter filter-check' },
        h('input', { id: 'f-undecided', type: 'checkbox', checked: filters.undecided, onchange: (e) => { filters.undecided = e.target.checked; renderRows(); } }),
        h('label', { for: 'f-undecided' }, t('consolidate.undecidedOnly'))),
      h('div', { class: 'filter' }, h('label', { for: 'f-text' }, t('consolidate.textFilter')), text));
  }

  function kindSelect(r, id) {
    const edit = dirty.get(r.comment.id);
    const value = edit ? edit.kind : (r.disposition || '');
    return h('select', {
      id, class: 'kind', 'aria-label': t('consolidate.dispositionOf', { number: r.number }),
      onchange: (e) => { edit_(r).kind = e.target.value; renderRow(r); focusIn(r, '.kind'); },
    }, h('option', { value: '' }, t('consolidate.undecided')),
    KINDS.map((k) => h('option', { value: k, selected: value === k }, t(`disposition.${k}`))));
  }

  function edit_(r) {
    if (!dirty.has(r.comment.id)) {
      const d = r.comment.disposition;
      dirty.set(r.comment.id, {
        kind: r.disposition || '', rationale: r.rationale || '',
        duplicateOf: d && d.duplicateOf ? d.duplicateOf.id : '', version: r.comment.dispositionVersion,
      });
    }
    return dirty.get(r.comment.id);
  }

  function rowEl(r) {
    const id = r.comment.id;
    const edit = dirty.get(id);
    const kind = edit ? edit.kind : (r.disposition || '');
    const d = r.comment.disposition;
    const rationale = h('textarea', {
      class: 'rationale', rows: 2, 'aria-label': t('consolidate.observationsOf', { number: r.number }),
      value: edit ? edit.rationale : (r.rationale || ''),
      oninput: (e) => { edit_(r).rationale = e.target.value; markDirty(r); },
    });
    const dup = kind === 'DUPLICATE' ? h('select', {
      class: 'duplicate', 'aria-label': t('consolidate.duplicateOf', { number: r.number }),
      onchange: (e) => { edit_(r).duplicateOf = e.target.value; markDirty(r); },
    }, h('option', { value: '' }, t('consolidate.pickDuplicate')),
    rows.filter((o) => o.comment.id !== id).map((o) => h('option', {
      value: o.comment.id, selected: (edit ? edit.duplicateOf : d && d.duplicateOf && d.duplicateOf.id) === o.comment.id,
    }, `${t('comment.no', { number: o.number })} (${o.organization}) ${o.body.slice(0, 60)}`))) : null;
    const replies = r.comment.replies;
    const tr = h('tr', {
      id: `row-${id}`, 'data-number': r.number, tabindex: -1,
      class: [edit ? 'dirty' : '', selected.has(id) ? 'selected' : '', r.disposition ? '' : 'undecided'].join(' ').trim(),
    },
    h('td', {}, h('input', {
      type: 'checkbox', class: 'pick', checked: selected.has(id), 'aria-label': t('consolidate.select', { number: r.number }),
      onchange: (e) => { if (e.target.checked) selected.add(id); else selected.delete(id); tr.classList.toggle('selected', e.target.checked); renderBulk(); },
    })),
    h('td', { class: 'num' }, h('a', { href: `${revisionPath(cycle.module.id, cycle.revision.number)}?cycle=${encodeURIComponent(cycleId)}#comment-${id}` }, String(r.number))),
    h('td', {}, r.organization),
    h('td', {}, r.clause),
    h('td', {}, r.location),
    h('td', {}, r.typeCode),
    h('td', { class: 'text' }, r.body),
    h('td', { class: 'text' }, r.proposedChange),
    h('td', { class: 'text small' }, replies.totalCount ? [
      h('ul', {}, replies.nodes.map((x) => h('li', {}, `${x.organization.shortName}: ${x.body}`))),
      replies.totalCount > replies.nodes.length ? t('consolidate.moreReplies', { count: replies.totalCount - replies.nodes.length }) : null,
    ] : '—'),
    h('td', { class: 'decide' }, kindSelect(r, `kind-${id}`), dup,
      d ? h('details', { class: 'history' }, h('summary', {}, t('consolidate.history', { count: d.history.length })),
        h('ol', {}, d.history.map((x) => h('li', {}, `${dateTime(x.changedAt)} · ${x.changedBy.displayName}: ${t(`disposition.${x.after.kind}`)}${x.after.rationale ? ` — ${x.after.rationale}` : ''}`)))) : null),
    h('td', { class: 'decide' }, rationale,
      h('p', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary save', disabled: !edit, onclick: () => save([r]) }, t('comment.save')),
        edit ? h('button', { type: 'button', class: 'link', onclick: () => { dirty.delete(id); renderRow(r); } }, t('comment.cancel')) : null),
      h('p', { class: 'error row-error', role: 'alert' }, edit && edit.error ? edit.error : '')));
    return tr;
  }

  function markDirty(r) {
    const tr = document.getElementById(`row-${r.comment.id}`);
    if (!tr) return;
    tr.classList.add('dirty');
    const b = tr.querySelector('button.save');
    if (b) b.disabled = false;
  }

  function renderRow(r) {
    const old = document.getElementById(`row-${r.comment.id}`);
    if (old) old.replaceWith(rowEl(r));
  }

  function focusIn(r, selector) {
    const tr = document.getElementById(`row-${r.comment.id}`);
    const el = tr && tr.querySelector(selector);
    if (el) el.focus();
  }

  function renderRows() {
    // a reload (a live decision elsewhere) must not take the focus away from
    // the row being worked on: remember where it is and put it back
    const active = document.activeElement;
    const at = active && tbody.contains(active) ? active.closest('tr[data-number]') : null;
    const keep = at ? {
      id: at.id,
      cls: active === at ? null : active.className.split(' ').pop(),
      caret: typeof active.selectionStart === 'number' ? active.selectionStart : null,
    } : null;
    const visible = rows.filter(shown);
    fill(tbody, visible.length ? visible.map(rowEl)
      : h('tr', {}, h('td', { colspan: 11 }, rows.length ? t('comments.noneMatch') : t('comments.none'))));
    countEl.textContent = t('consolidate.showing', { shown: visible.length, count: rows.length });
    const again = keep && document.getElementById(keep.id);
    const el = again && (keep.cls ? again.querySelector(`.${keep.cls}`) : again);
    if (el) {
      el.focus();
      if (keep.caret !== null && el.setSelectionRange) el.setSelectionRange(keep.caret, keep.caret);
    }
  }

  // what is typed in the bulk form survives its redrawing (a live reload)
  const bulk = { kind: KINDS[0], rationale: '' };
  function renderBulk() {
    const n = selected.size;
    const kind = h('select', { id: 'bulk-kind', onchange: (e) => { bulk.kind = e.target.value; } },
      KINDS.map((k) => h('option', { value: k, selected: bulk.kind === k }, t(`disposition.${k}`))));
    const rationale = h('input', {
      id: 'bulk-rationale', type: 'text', value: bulk.rationale, oninput: (e) => { bulk.rationale = e.target.value; },
    });
    const focused = document.activeElement && bulkEl.contains(document.activeElement) ? document.activeElement.id : null;
    fill(bulkEl,
      h('p', {}, h('strong', {}, t('consolidate.selected', { count: n })), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => { for (const r of rows.filter(shown)) selected.add(r.comment.id); renderRows(); renderBulk(); } }, t('consolidate.selectShown')),
        n ? h('button', { type: 'button', class: 'link', onclick: () => { selected.clear(); renderRows(); renderBulk(); } }, t('consolidate.selectNone')) : null),
      n ? h('div', { class: 'bulk-form' },
        h('div', { class: 'filter' }, h('label', { for: 'bulk-kind' }, t('consolidate.disposition')), kind),
        h('div', { class: 'filter grow' }, h('label', { for: 'bulk-rationale' }, t('consolidate.observations')), rationale),
        h('button', {
          type: 'button', class: 'primary', id: 'bulk-apply',
          onclick: () => {
            const chosen = rows.filter((r) => selected.has(r.comment.id));
            for (const r of chosen) Object.assign(edit_(r), { kind: bulk.kind, rationale: bulk.rationale, duplicateOf: '' });
            save(chosen, true);
          },
        }, t('consolidate.apply', { count: n }))) : null);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  /** Save the edits of these rows in one call: all or nothing. */
  async function save(list, bulk = false) {
    const items = list.map((r) => {
      const e = edit_(r);
      return {
        commentId: r.comment.id,
        kind: e.kind,
        rationale: e.rationale.trim() ? e.rationale : null,
        duplicateOfId: e.kind === 'DUPLICATE' && e.duplicateOf ? e.duplicateOf : null,
        expectedVersion: e.version,
      };
    });
    const missing = items.findIndex((i) => !i.kind);
    if (missing >= 0) {
      edit_(list[missing]).error = t('consolidate.pickKind');
      renderRow(list[missing]);
      return;
    }
    const here = document.getElementById(`row-${list[0].comment.id}`);
    const next = !bulk && here && here.nextElementSibling ? here.nextElementSibling.id : null;
    try {
      await gql(SET, { input: { dispositions: items } });
      for (const r of list) dirty.delete(r.comment.id);
      if (bulk) selected.clear();
      announce(t('consolidate.saved', { count: list.length }));
      await Promise.all([loadRows(), loadProgress()]);
      // on to the next row, as a rapporteur works down the table
      const focus = (next && document.getElementById(next)) || document.getElementById(`row-${list[0].comment.id}`);
      if (focus && !bulk) focus.focus();
    } catch (err) {
      // the error names the row (`dispositions[i].…`); all rows stay as edited
      const m = /dispositions\[(\d+)\]/.exec(err.field || '');
      const at = m ? Number(m[1]) : 0;
      for (const r of list) edit_(r).error = '';
      const target = list[at] || list[0];
      edit_(target).error = errorText(err);
      for (const r of list) renderRow(r);
      if (bulk) announce(t('consolidate.bulkFailed', { number: target.number, message: errorText(err) }), 'error');
      focusIn(target, '.kind');
    }
  }

  // ---- keyboard -----------------------------------------------------------
  function onKey(e) {
    const tr = e.target.closest && e.target.closest('tr[data-number]');
    if (!tr) return;
    const typing = e.target.matches('textarea, input[type=text], input[type=search]');
    const r = rows.find((x) => `row-${x.comment.id}` === tr.id);
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (r) save([r]); return; }
    if (typing) { if (e.key === 'Escape') tr.focus(); return; }
    const move = (dir) => {
      const next = dir > 0 ? tr.nextElementSibling : tr.previousElementSibling;
      if (next && next.matches('tr[data-number]')) { e.preventDefault(); next.focus(); }
    };
    if (e.key === 'j' || (e.key === 'ArrowDown' && e.target === tr)) move(1);
    else if (e.key === 'k' || (e.key === 'ArrowUp' && e.target === tr)) move(-1);
    else if (e.key === 'x' && r) {
      e.preventDefault();
      if (selected.has(r.comment.id)) selected.delete(r.comment.id); else selected.add(r.comment.id);
      renderRow(r); renderBulk();
      document.getElementById(`row-${r.comment.id}`).focus();
    } else if (e.key === 'o' && r) { e.preventDefault(); focusIn(r, '.rationale'); }
    else if (KEYS[e.key] && r && e.target === tr) {
      e.preventDefault();
      edit_(r).kind = KEYS[e.key];
      renderRow(r);
      focusIn(r, KEYS[e.key] === 'DUPLICATE' ? '.duplicate' : '.rationale');
    }
  }

  // ---- the page -----------------------------------------------------------
  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('nav.home')), ' › ', `${t('home.question')} ${cycle.module.kit.question.code}`, ' › ',
      h('a', { href: `${revisionPath(cycle.module.id, cycle.revision.number)}?cycle=${encodeURIComponent(cycleId)}` }, t('revision.title', { module: cycle.module.title, number: cycle.revision.number }))),
    h('div', { class: 'panel-head' }, h('h1', {}, t('consolidate.title'), ': ', cycle.title), liveState),
    progressEl,
    adminEl,
    h('section', { class: 'card', 'aria-labelledby': 'table-h' },
      h('h2', { id: 'table-h' }, t('consolidate.table')),
      h('p', { class: 'help' }, t('consolidate.keys')),
      filterEl, bulkEl, countEl,
      h('div', { class: 'table-wrap' }, h('table', { class: 'consolidation', onkeydown: onKey },
        h('caption', { class: 'sr-only' }, t('consolidate.table')),
        h('thead', {}, h('tr', {}, [
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('consolidate.selectCol'))),
          ...['no', 'mbnc', 'clause', 'location', 'type', 'comment', 'proposed', 'replies', 'disposition', 'observations']
            .map((c) => h('th', { scope: 'col' }, t(`consolidate.col.${c}`))),
        ])),
        tbody))));
  await Promise.all([loadProgress(), loadRows(), loadAdmin()]);

  if (cycle.status !== 'CONSOLIDATED') {
    let timer = null;
    live = new Live(EVENTS, { cycle: cycleId }, (d) => {
      const kind = d.cycleEvents.kind;
      if (kind !== 'DISPOSITION_SET' && kind !== 'COMMENT_SUBMITTED' && kind !== 'COMMENT_WITHDRAWN'
        && kind !== 'COMMENT_UPDATED' && kind !== 'CYCLE_STATUS_CHANGED') return;
      clearTimeout(timer);
      timer = setTimeout(() => Promise.all([loadRows(), loadProgress()]).catch(() => {}), 250);
    }, (state, info) => {
      liveState.textContent = state === 'up' ? t('live.up') : t('live.down');
      liveState.className = `live live-${state}`;
      if (state === 'up' && info.reconnected) loadRows().catch(() => {});
    });
  }
  return { dispose() { if (live) live.stop(); } };
}
