// Building the page: every text goes in as a text node, never as markup.
// The one exception is `trustedHtml`, for a block's HTML that the server
// rendered from Markdown and sanitised (ammonia).

/** h('div', {class: 'x', onclick: fn}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'trustedHtml') el.innerHTML = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A random key for idempotent retries (works outside secure contexts too). */
export function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Announce a message to screen readers and show it in the status line. */
export function announce(text, kind = 'info') {
  const el = document.getElementById('status');
  if (!el) return;
  el.className = `status status-${kind}`;
  el.textContent = text;
  if (kind !== 'error') {
    clearTimeout(announce.timer);
    announce.timer = setTimeout(() => { el.textContent = ''; el.className = 'status'; }, 8000);
  }
}

/** Go to another page of the workspace without reloading it (app.js routes). */
export function go(path) {
  window.dispatchEvent(new CustomEvent('kitreview:navigate', { detail: path }));
}
