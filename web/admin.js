// The secretariat's people page: organizations, user accounts (create, change,
// deactivate and reactivate, reset a forgotten password, unlock a sign-in that
// failed attempts locked) and the rapporteurs of each question. Every form
// calls the API's mutation, which checks the permission again.

import { h, fill, announce } from './dom.js';
import { t, dateTime } from './i18n.js';
import { gql, gqlAll } from './api.js';
import { form, field, isSecretariat } from './manage.js';

const ROLES = ['MEMBER', 'RAPPORTEUR', 'SECRETARIAT'];
const KINDS = ['MEMBER_STATE', 'SECTOR_MEMBER', 'ACADEMIA', 'INTERNATIONAL_ORGANIZATION', 'OBSERVER'];
const REGIONS = ['AFRICA', 'AMERICAS', 'ARAB_STATES', 'ASIA_PACIFIC', 'CIS', 'EUROPE'];

const ORGS = `query($after: String) { organizations(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { id name shortName kind countryCode region } } }`;
const USERS = `query($after: String) { users(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { id email displayName roles active temporaryPasswordExpiresAt signInLockedUntil
    organization { id shortName } rapporteurOf { id code } } } }`;
const QUESTIONS = `{ questions(first: 100) { nodes { id code title rapporteurs { id displayName organization { shortName } } } } }`;

const CREATE_ORG = `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`;
const UPDATE_USER = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } } }`;
const DEACTIVATE = `mutation($input: SetUserActiveInput!) { deactivateUser(input: $input) { user { id active } } }`;
const REACTIVATE = `mutation($input: SetUserActiveInput!) { reactivateUser(input: $input) { user { id active } } }`;
const RESET = `mutation($input: UserPasswordInput!) { resetUserPassword(input: $input) { temporaryPassword expiresAt } }`;
const UNLOCK = `mutation($input: UserPasswordInput!) { unlockUserSignIn(input: $input) { user { id } } }`;
const CREATE_QUESTION = `mutation($input: CreateQuestionInput!) { createQuestion(input: $input) { question { id } } }`;
const ASSIGN = `mutation($input: RapporteurInput!) { assignRapporteur(input: $input) { question { id } } }`;
const UNASSIGN = `mutation($input: RapporteurInput!) { unassignRapporteur(input: $input) { question { id } } }`;

/** A password proposal the secretariat passes on; the user changes it on their account page. */
function proposal() {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => alphabet[x % alphabet.length]).join('');
}

function options(values, prefix, selected) {
  return values.map((v) => h('option', { value: v, selected: v === selected }, t(`${prefix}.${v}`)));
}

function roleBoxes(idPrefix, chosen) {
  return h('fieldset', { class: 'roles' }, h('legend', {}, t('admin.roles')),
    ROLES.map((r) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: `${idPrefix}-role`, value: r, checked: chosen.includes(r) }), ' ', t(`role.${r}`))));
}

function checkedRoles(el) {
  return [...el.querySelectorAll('input[type=checkbox]:checked')].map((x) => x.value);
}

export async function adminPage(main, viewer) {
  document.title = `${t('admin.title')} · kitreview`;
  if (!isSecretariat(viewer)) {
    fill(main, h('h1', {}, t('admin.title')), h('p', { class: 'error', role: 'alert', 'data-refused': '' }, t('admin.forbidden')));
    return { dispose() {} };
  }
  const orgCard = h('section', { class: 'card', 'aria-labelledby': 'orgs-h' });
  const userCard = h('section', { class: 'card', 'aria-labelledby': 'users-h' });
  const questionCard = h('section', { class: 'card', 'aria-labelledby': 'questions-h' });
  let orgs = [];
  let users = [];
  let userFilter = '';
  // The temporary password just issued: shown until the page is left, never again.
  let issued = null;

  async function reload() {
    const [o, u, q] = await Promise.all([gqlAll(ORGS, 'organizations'), gqlAll(USERS, 'users'), gql(QUESTIONS)]);
    orgs = o;
    users = u;
    drawOrgs();
    drawUsers();
    drawQuestions(q.questions.nodes);
  }

  async function act(run, message) {
    await run();
    announce(message);
    await reload();
  }

  function drawOrgs() {
    const name = h('input', { type: 'text', required: true, maxlength: 200 });
    const short = h('input', { type: 'text', required: true, maxlength: 64 });
    const kind = h('select', {}, options(KINDS, 'orgKind', 'MEMBER_STATE'));
    const country = h('input', { type: 'text', maxlength: 2, size: 3, pattern: '[A-Za-z]{2}', autocomplete: 'off' });
    const region = h('select', {}, h('option', { value: '' }, '—'), options(REGIONS, 'region'));
    fill(orgCard,
      h('h2', { id: 'orgs-h' }, t('admin.organizations', { count: orgs.length })),
      h('div', { class: 'table-wrap' }, h('table', { class: 'people' },
        h('thead', {}, h('tr', {}, [t('admin.shortName'), t('admin.orgName'), t('admin.kind'), t('admin.country'), t('admin.region')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, orgs.map((o) => h('tr', {},
          h('th', { scope: 'row' }, o.shortName), h('td', {}, o.name), h('td', {}, t(`orgKind.${o.kind}`)),
          h('td', {}, o.countryCode || ''), h('td', {}, o.region ? t(`region.${o.region}`) : '')))))),
      h('details', {}, h('summary', {}, t('admin.newOrganization')),
        form('new-org', t('admin.newOrganization'), [
          field('o-name', t('admin.orgName'), name), field('o-short', t('admin.shortName'), short),
          field('o-kind', t('admin.kind'), kind), field('o-country', t('admin.country'), country),
          field('o-region', t('admin.region'), region),
        ], t('admin.create'), () => act(() => gql(CREATE_ORG, { input: {
          name: name.value.trim(), shortName: short.value.trim(), kind: kind.value,
          countryCode: country.value.trim().toUpperCase() || null, region: region.value || null,
        } }), t('admin.orgCreated', { name: short.value.trim() })))));
  }

  function userRow(u) {
    const toggle = h('button', {
      type: 'button', class: u.active ? 'link danger' : 'link',
      'aria-label': t(u.active ? 'admin.deactivateWho' : 'admin.reactivateWho', { name: u.displayName }),
      onclick: async () => {
        if (u.active && !window.confirm(t('admin.confirmDeactivate', { name: u.displayName }))) return;
        toggle.disabled = true;
        try {
          await act(() => gql(u.active ? DEACTIVATE : REACTIVATE, { input: { userId: u.id } }),
            t(u.active ? 'admin.deactivated' : 'admin.reactivated', { name: u.displayName }));
        } catch (err) {
          toggle.disabled = false;
          announce(t('error.generic', { message: err.message }), 'error');
        }
      },
    }, t(u.active ? 'admin.deactivate' : 'admin.reactivate'));
    const reset = h('button', {
      type: 'button', class: 'link',
      'aria-label': t('admin.resetWho', { name: u.displayName }),
      onclick: async () => {
        if (!window.confirm(t('admin.confirmReset', { name: u.displayName }))) return;
        reset.disabled = true;
        try {
          const r = (await gql(RESET, { input: { userId: u.id } })).resetUserPassword;
          issued = { name: u.displayName, email: u.email, password: r.temporaryPassword, expiresAt: r.expiresAt };
          await act(async () => {}, t('admin.resetDone', { name: u.displayName }));
          const shown = document.getElementById('issued-password');
          if (shown) shown.focus();
        } catch (err) {
          reset.disabled = false;
          announce(t('error.generic', { message: err.message }), 'error');
        }
      },
    }, t('admin.reset'));
    const unlock = u.signInLockedUntil && h('button', {
      type: 'button', class: 'link',
      'aria-label': t('admin.unlockWho', { name: u.displayName }),
      onclick: async () => {
        unlock.disabled = true;
        try {
          await act(() => gql(UNLOCK, { input: { userId: u.id } }), t('admin.unlocked', { name: u.displayName }));
        } catch (err) {
          unlock.disabled = false;
          announce(t('error.generic', { message: err.message }), 'error');
        }
      },
    }, t('admin.unlock'));
    const name = h('input', { type: 'text', required: true, value: u.displayName });
    const org = h('select', {}, orgs.map((o) => h('option', { value: o.id, selected: o.id === u.organization.id }, o.shortName)));
    const roles = roleBoxes(`u-${u.id}`, u.roles);
    const edit = h('details', { class: 'row-edit' }, h('summary', { 'aria-label': t('admin.changeWho', { name: u.displayName }) }, t('admin.change')),
      form(`edit-${u.id}`, t('admin.changeWho', { name: u.displayName }), [
        field(`e-name-${u.id}`, t('admin.displayName'), name), field(`e-org-${u.id}`, t('filter.organization'), org), roles,
      ], t('admin.save'), () => act(() => gql(UPDATE_USER, { input: {
        userId: u.id, displayName: name.value.trim(), organizationId: org.value, roles: checkedRoles(roles),
      } }), t('admin.saved', { name: name.value.trim() }))));
    return h('tr', { class: u.active ? '' : 'inactive', 'data-user': u.email || '' },
      h('th', { scope: 'row' }, u.displayName), h('td', {}, u.email || ''), h('td', {}, u.organization.shortName),
      h('td', {}, u.roles.map((r) => t(`role.${r}`)).join(', ')),
      h('td', {}, u.rapporteurOf.map((q) => q.code).join(', ')),
      h('td', {}, u.active ? t('admin.active') : h('strong', {}, t('admin.inactive')),
        u.signInLockedUntil ? h('div', { class: 'meta' }, t('admin.lockedUntil', { when: dateTime(u.signInLockedUntil) })) : null,
        u.temporaryPasswordExpiresAt ? h('div', { class: 'meta' }, t('admin.temporaryUntil', { when: dateTime(u.temporaryPasswordExpiresAt) })) : null),
      h('td', { class: 'actions' }, u.id === viewer.id ? null : [toggle, reset], unlock || null, edit));
  }

  function drawUsers() {
    const tbody = h('tbody', {});
    const drawRows = () => {
      const q = userFilter.toLowerCase();
      fill(tbody, users.filter((u) => !q || `${u.displayName} ${u.email || ''} ${u.organization.shortName}`.toLowerCase().includes(q)).map(userRow));
    };
    const search = h('input', {
      id: 'u-filter', type: 'search', value: userFilter,
      oninput: (e) => { userFilter = e.target.value; drawRows(); },
    });
    const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
    const name = h('input', { type: 'text', required: true });
    const org = h('select', { required: true }, orgs.map((o) => h('option', { value: o.id }, `${o.shortName} — ${o.name}`)));
    const roles = roleBoxes('new', ['MEMBER']);
    const password = h('input', { type: 'text', required: true, minlength: 12, value: proposal(), autocomplete: 'off', spellcheck: 'false' });
    drawRows();
    fill(userCard,
      h('h2', { id: 'users-h' }, t('admin.users', { count: users.length })),
      issued ? h('div', { class: 'notice', id: 'issued-password', tabindex: '-1', role: 'status' },
        h('p', {}, t('admin.issued', { name: issued.name, email: issued.email || '' })),
        h('p', {}, h('code', { class: 'secret', 'data-temporary-password': '' }, issued.password)),
        h('p', { class: 'help' }, t('admin.issuedHelp', { when: dateTime(issued.expiresAt) }))) : null,
      h('div', { class: 'filter' }, h('label', { for: 'u-filter' }, t('admin.findUser')), search),
      h('div', { class: 'table-wrap' }, h('table', { class: 'people' },
        h('thead', {}, h('tr', {}, [t('admin.displayName'), t('signIn.email'), t('filter.organization'), t('admin.roles'), t('admin.rapporteurOf'), t('admin.status'), t('admin.actions')].map((x) => h('th', { scope: 'col' }, x)))),
        tbody)),
      h('details', {}, h('summary', {}, t('admin.newUser')),
        form('new-user', t('admin.newUser'), [
          field('n-email', t('signIn.email'), email), field('n-name', t('admin.displayName'), name),
          field('n-org', t('filter.organization'), org), roles,
          field('n-password', t('admin.initialPassword'), password),
          h('p', { class: 'help' }, t('admin.passwordHelp')),
        ], t('admin.create'), () => act(() => gql(CREATE_USER, { input: {
          email: email.value.trim(), displayName: name.value.trim(), organizationId: org.value,
          roles: checkedRoles(roles), initialPassword: password.value,
        } }), t('admin.userCreated', { name: name.value.trim() })))));
  }

  function drawQuestions(questions) {
    const code = h('input', { type: 'text', required: true, placeholder: '17-2/2' });
    const title = h('input', { type: 'text', required: true });
    fill(questionCard,
      h('h2', { id: 'questions-h' }, t('admin.questions')),
      questions.map((q) => {
        const who = h('select', { required: true }, users.filter((u) => u.active && !q.rapporteurs.some((r) => r.id === u.id))
          .map((u) => h('option', { value: u.id }, `${u.displayName} (${u.organization.shortName})`)));
        return h('div', { class: 'question-admin', 'data-question': q.code },
          h('h3', {}, `${q.code}: ${q.title}`),
          h('ul', {}, q.rapporteurs.length ? q.rapporteurs.map((r) => h('li', {},
            `${r.displayName} (${r.organization.shortName}) `,
            h('button', {
              type: 'button', class: 'link danger', 'aria-label': t('admin.unassignWho', { name: r.displayName, code: q.code }),
              onclick: () => act(() => gql(UNASSIGN, { input: { questionId: q.id, userId: r.id } }), t('admin.unassigned', { name: r.displayName, code: q.code }))
                .catch((err) => announce(t('error.generic', { message: err.message }), 'error')),
            }, t('admin.unassign')))) : h('li', { class: 'meta' }, t('admin.noRapporteur'))),
          form(`assign-${q.id}`, t('admin.assign'), field(`a-who-${q.id}`, t('admin.user'), who), t('admin.assignButton'),
            () => act(() => gql(ASSIGN, { input: { questionId: q.id, userId: who.value } }),
              t('admin.assigned', { name: who.selectedOptions[0] ? who.selectedOptions[0].textContent : '', code: q.code }))));
      }),
      h('details', {}, h('summary', {}, t('admin.newQuestion')),
        form('new-question', t('admin.newQuestion'), [field('q-code', t('admin.code'), code), field('q-title', t('admin.questionTitle'), title)],
          t('admin.create'), () => act(() => gql(CREATE_QUESTION, { input: { code: code.value.trim(), title: title.value.trim() } }),
            t('admin.questionCreated', { code: code.value.trim() })))));
  }

  fill(main, h('h1', {}, t('admin.title')), h('p', { class: 'help' }, t('admin.help')), userCard, questionCard, orgCard);
  await reload();
  return { dispose() {} };
}
