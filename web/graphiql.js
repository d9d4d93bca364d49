// kitreview's GraphiQL: mounts the vendored GraphiQL (web/vendor/graphiql,
// versions in VERSIONS.md) with a fetcher that
// - signs in with the workspace's session cookie: it learns the CSRF token
//   from `GET /session` and sends it as `X-CSRF-Token` on every POST;
// - or with whatever the Headers tab says (`{"Authorization": "Bearer …"}`),
//   which the server prefers to the cookie;
// - runs subscriptions over graphql-transport-ws at `/graphql` on this host
//   (the Headers tab goes in `connection_init`; without a token the server
//   signs a same-origin socket in with the cookie).
(function () {
  "use strict";

  var wsUrl =
    (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  // The session: fetched once, again after a refusal (the browser may have
  // signed in or out in another tab since).
  var session = null;
  function currentSession() {
    if (!session) {
      session = fetch("/session", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (r) {
          return r.ok ? r.json() : { signedIn: false };
        })
        .catch(function () {
          return { signedIn: false };
        })
        .then(function (s) {
          text(
            "gq-session",
            s.signedIn
              ? "Signed in with the workspace's session" +
                  (s.expiresAt ? " (until " + new Date(s.expiresAt).toLocaleString() + ")" : "") +
                  "."
              : "Not signed in: queries run anonymously unless the Headers tab carries a token."
          );
          return s;
        });
    }
    return session;
  }

  // POST with the session's CSRF token when the browser is signed in; the
  // cookie goes along (same origin).
  function post(url, init) {
    return currentSession().then(function (s) {
      var headers = Object.assign({ Accept: "application/json" }, init.headers);
      var token = s.signedIn && s.csrfToken;
      if (token) headers["X-CSRF-Token"] = token;
      return fetch(
        url,
        Object.assign({}, init, { headers: headers, credentials: "same-origin" })
      ).then(function (res) {
        return { res: res, usedSession: !!token };
      });
    });
  }

  function httpFetch(url, init) {
    return post(url, init).then(function (r) {
      if (!r.usedSession || (r.res.status !== 401 && r.res.status !== 403)) return r.res;
      // A stale CSRF token or an ended session: ask again, retry once.
      session = null;
      return post(url, init).then(function (again) {
        return again.res;
      });
    });
  }

  text("gq-ws", wsUrl);
  currentSession();

  var fetcher = GraphiQL.createFetcher({
    url: "/graphql",
    fetch: httpFetch,
    enableIncrementalDelivery: false,
    subscriptionUrl: wsUrl,
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
