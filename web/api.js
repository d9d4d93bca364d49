// The GraphQL API as the page uses it: the session cookie (HttpOnly, never
// seen by this script) plus the CSRF token the server hands out at /session.

let csrf = null;

export class ApiError extends Error {
  constructor(message, code, status, field) {
    super(message);
    this.code = code;
    this.status = status;
    this.field = field;
  }
}

async function json(res) {
  try { return await res.json(); } catch { return null; }
}

/** Whether the browser is signed in; remembers the CSRF token. */
export async function session() {
  const res = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
  const body = await json(res);
  csrf = body && body.csrfToken ? body.csrfToken : null;
  return body || { signedIn: false };
}

/** Sign in; with `newPassword` also choose a new password (required after a reset). */
export async function signIn(email, password, newPassword) {
  const res = await fetch('/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(newPassword ? { email, password, newPassword } : { email, password }),
  });
  const body = await json(res);
  if (!res.ok) throw errorOf(res, body);
  csrf = body.csrfToken;
  return body;
}

/** Change the password; the server renews the session cookie (earlier tokens stop working). */
export async function changePassword(currentPassword, newPassword) {
  const res = await fetch('/session/password', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf || '' },
    body: JSON.stringify({ currentPassword, newPassword }),
  });
  const body = await json(res);
  if (!res.ok) throw errorOf(res, body);
  csrf = body.csrfToken;
  return body;
}

export async function signOut() {
  await fetch('/session/sign-out', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrf || '' },
  });
  csrf = null;
}

function errorOf(res, body) {
  const e = body && body.errors && body.errors[0];
  const code = e && e.extensions && e.extensions.code;
  const field = e && e.extensions && e.extensions.field;
  let message = (e && e.message) || `HTTP ${res.status}`;
  const retry = res.headers.get('retry-after');
  if (retry) message += ` (retry after ${retry} s)`;
  return new ApiError(message, code || `HTTP_${res.status}`, res.status, field);
}

/** Queries go out as GET, so the browser keeps the answer and asks again
 * with its ETag: an unchanged answer comes back as "304 Not Modified" with
 * no body (the server's tag is per user and changes with any write).
 * Mutations, and queries too long for a URL, are POSTs with the CSRF token. */
function request(query, variables) {
  if (!/^\s*mutation\b/.test(query)) {
    const url = `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;
    if (url.length <= 6000) return [url, { credentials: 'same-origin', cache: 'no-cache' }];
  }
  return ['/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf || '' },
    body: JSON.stringify({ query, variables }),
  }];
}

/** Run a query or mutation; throws ApiError on any error. */
export async function gql(query, variables = {}) {
  let res;
  try {
    res = await fetch(...request(query, variables));
  } catch (e) {
    throw new ApiError(e.message, 'NETWORK', 0);
  }
  const body = await json(res);
  if (!res.ok || !body || (body.errors && body.errors.length)) {
    const err = errorOf(res, body);
    if (err.code === 'UNAUTHENTICATED' || res.status === 401) {
      window.dispatchEvent(new CustomEvent('kitreview:signed-out'));
    }
    throw err;
  }
  return body.data;
}

/** Every node of a root connection `key` (`query` takes `$after`), at most
 * `pages` pages of what the query asks for. */
export async function gqlAll(query, key, pages = 50) {
  const out = [];
  let after = null;
  for (let page = 0; page < pages; page += 1) {
    const d = (await gql(query, { after }))[key];
    out.push(...d.nodes);
    if (!d.pageInfo.hasNextPage) break;
    after = d.pageInfo.endCursor;
  }
  return out;
}

/** Upload a file to one of the API's file endpoints (the comments template):
 * `{ ok, status, body }`, with the row and column errors in `body.errors`. */
export async function upload(path, file, key) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': csrf || '', 'idempotency-key': key, 'content-type': file.type || 'application/octet-stream' },
      body: file,
    });
  } catch (e) {
    throw new ApiError(e.message, 'NETWORK', 0);
  }
  return { ok: res.ok, status: res.status, body: await json(res) };
}

/** One subscription over graphql-transport-ws that reconnects by itself.
 * `onEvent(data)` for each event, `onState('up'|'down', {reconnected})`. */
export class Live {
  constructor(query, variables, onEvent, onState) {
    Object.assign(this, { query, variables, onEvent, onState });
    this.retry = 0;
    this.stopped = false;
    this.everUp = false;
    this.open();
  }

  open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    const ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({
          id: '1', type: 'subscribe', payload: { query: this.query, variables: this.variables },
        }));
        const reconnected = this.everUp;
        this.everUp = true;
        this.retry = 0;
        this.onState('up', { reconnected });
      } else if (msg.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong' }));
      } else if (msg.type === 'next' && msg.payload && msg.payload.data) {
        this.onEvent(msg.payload.data);
      } else if (msg.type === 'error') {
        this.onState('down', { error: msg.payload });
      }
    };
    ws.onclose = (ev) => {
      if (this.stopped) return;
      this.onState('down', { code: ev.code });
      // 4401/4403: not signed in any more — no point in retrying.
      if (ev.code === 4401 || ev.code === 4403) return;
      const delay = Math.min(30000, 1000 * 2 ** this.retry) * (0.5 + Math.random() / 2);
      this.retry += 1;
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}
