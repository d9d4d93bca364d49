// The reference graphql-ws client (npm `graphql-ws`) against a kitreview server
// started with `--demo`: a rapporteur subscribes to the open review cycle, a
// delegate submits a comment over HTTP, the event arrives; a bad token is
// refused with 4403; a search finds the comment. Exits non-zero on any failure.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const http = process.argv[2];
if (!http) {
  console.error("usage: node client.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}
const wsUrl = http.replace(/^http/, "ws");
const PASSWORD = "kitreview-demo-2026";

async function gql(query, variables = {}, token) {
  const res = await fetch(http, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const login = async (email) =>
  (await gql("mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }", { e: email, p: PASSWORD })).login.token;

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

const rapporteur = await login("rapporteur@itu.example");
const kenya = await login("delegate.kenya@itu.example");
const data = await gql(
  "{ questions(first: 10) { nodes { kits { modules { title reviewCycles { id status } } } } } }",
  {},
  rapporteur,
);
const cycles = data.questions.nodes.flatMap((q) => q.kits.flatMap((k) => k.modules.flatMap((m) => m.reviewCycles)));
const open = cycles.find((c) => c.status === "OPEN");
if (!open) throw new Error(`no OPEN cycle in the demo: ${JSON.stringify(cycles)}`);

// 1. Subscribe as the rapporteur; submit as Kenya; receive the event.
let connected;
const isConnected = new Promise((resolve) => (connected = resolve));
const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${rapporteur}` },
  retryAttempts: 0,
  on: { connected: () => connected() },
});
const events = [];
let gotEvent;
const arrived = new Promise((resolve) => (gotEvent = resolve));
const unsubscribe = client.subscribe(
  {
    query: "subscription($c: ID!) { cycleEvents(cycleId: $c) { kind comment { number body organization { shortName } } } }",
    variables: { c: open.id },
  },
  {
    next: (msg) => {
      events.push(msg);
      if (msg.data?.cycleEvents?.comment?.body === "Sent while a rapporteur watches") gotEvent(msg);
    },
    error: (e) => {
      console.error("subscription error", e);
      process.exit(1);
    },
    complete: () => {},
  },
);
await withTimeout(isConnected, 5000, "connection_ack");
// The subscribe message is sent right after the ack; give the server a moment to register it.
await new Promise((r) => setTimeout(r, 300));
const submitted = await gql(
  "mutation($c: ID!) { submitComment(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: \"Sent while a rapporteur watches\"}) { comment { number } } }",
  { c: open.id },
  kenya,
);
const msg = await withTimeout(arrived, 5000, "the COMMENT_SUBMITTED event");
const ev = msg.data.cycleEvents;
if (ev.kind !== "COMMENT_SUBMITTED" || ev.comment.number !== submitted.submitComment.comment.number || ev.comment.organization.shortName !== "Kenya") {
  throw new Error(`unexpected event ${JSON.stringify(msg)}`);
}
console.log(`graphql-ws: received ${ev.kind} for comment ${ev.comment.number} from ${ev.comment.organization.shortName}`);
unsubscribe();
await client.dispose();

// 2. A bad token: the server closes with 4403.
const closedWith = await withTimeout(
  new Promise((resolve) => {
    const bad = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: "Bearer not-a-token" },
      retryAttempts: 0,
      lazy: false,
      on: { closed: (e) => resolve(e.code) },
      onNonLazyError: () => {},
    });
    void bad;
  }),
  5000,
  "the close of a connection with a bad token",
);
if (closedWith !== 4403) throw new Error(`a bad token closed with ${closedWith}, not 4403`);
console.log("graphql-ws: a bad token is refused with 4403");

// 3. The search from the README finds the comment just made.
const found = await gql(
  "query($q: String!) { searchComments(query: $q, first: 5) { totalCount edges { node { score comment { number } snippets { field text highlights { start length } } } } } }",
  { q: "rapporteur watches" },
  rapporteur,
);
const hit = found.searchComments.edges.find((e) => e.node.comment.number === submitted.submitComment.comment.number);
if (!hit) throw new Error(`search did not find the comment: ${JSON.stringify(found)}`);
console.log(`search: found comment ${hit.node.comment.number}: ${hit.node.snippets[0].text}`);
process.exit(0);
