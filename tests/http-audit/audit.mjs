// Runs graphql-http's GraphQL-over-HTTP server audits against the URL in argv[2]; exits 1 if any MUST audit fails.
// With a token in argv[3], every request is signed in: several audits introspect
// the schema (`__type`), which kitreview serves to signed-in users only.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const token = process.argv[3];
if (!url) {
  console.error('usage: node audit.mjs GRAPHQL_URL [TOKEN]');
  process.exit(2);
}

const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;
const results = await auditServer({ url, fetchFn });
const failed = { MUST: 0, SHOULD: 0, MAY: 0 };
let ok = 0;
for (const r of results) {
  if (r.status === 'ok') {
    ok++;
    console.log(`ok     ${r.id} ${r.name}`);
    continue;
  }
  const level = r.name.split(' ', 1)[0];
  failed[level] = (failed[level] ?? 0) + 1;
  console.log(`${r.status.padEnd(6)} ${r.id} ${r.name}\n         reason: ${r.reason}`);
}
console.log(`audit: ${ok} ok, ${failed.MUST} MUST failed, ${failed.SHOULD} SHOULD failed, ${failed.MAY} MAY failed`);
process.exit(failed.MUST > 0 ? 1 : 0);
