//! GraphiQL works without the internet: `GET /graphql` from a browser is a
//! page whose scripts and styles are this server's own assets (vendored in
//! `web/vendor/graphiql/`), under a CSP that runs no inline script.

use crate::backend_tests;
use crate::common::{Backend, TestServer};

backend_tests!(graphiql_is_served_from_the_binary);

/// The value of attribute `name` in the tag `tag` (`<script …>` up to `>`).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &tag[at..];
    Some(&rest[..rest.find('"')?])
}

/// Every opening `<name …>` tag of the page.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i..];
        let end = rest.find('>').expect("a closed tag");
        out.push(&rest[..=end]);
        rest = &rest[end + 1..];
    }
    out
}

fn no_other_host(what: &str, text: &str) {
    let lower = text.to_ascii_lowercase();
    for bad in ["unpkg", "cdn", "http://", "https://"] {
        assert!(!lower.contains(bad), "{what} mentions `{bad}`");
    }
}

async fn graphiql_is_served_from_the_binary(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let res = s
        .http
        .get(s.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("get /graphql");
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let csp = header("content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src in `{csp}`"));
    assert_eq!(script_src, "script-src 'self'", "CSP: {csp}");
    assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp}");
    assert!(!csp.contains("unsafe-eval"), "CSP: {csp}");
    let html = res.text().await.expect("html");
    no_other_host("the GraphiQL page", &html);
    assert!(!html.contains("<style"), "no inline style element");
    assert!(html.contains("Bearer &lt;token&gt;"), "says how to sign in");
    assert!(
        html.contains("graphql-transport-ws"),
        "says where subscriptions are"
    );

    // Its scripts and styles: files of this server, each served.
    let mut assets = Vec::new();
    for tag in tags(&html, "script") {
        let src = attribute(tag, "src").unwrap_or_else(|| panic!("inline script: {tag}"));
        assets.push((src.to_owned(), "text/javascript"));
    }
    for tag in tags(&html, "link") {
        let href = attribute(tag, "href").unwrap_or_else(|| panic!("link without href: {tag}"));
        assert_eq!(attribute(tag, "rel"), Some("stylesheet"), "{tag}");
        assets.push((href.to_owned(), "text/css"));
    }
    assert_eq!(
        html.matches("<script").count(),
        html.matches("></script>").count()
    );
    for want in [
        "/assets/vendor/graphiql/react.production.min.js",
        "/assets/vendor/graphiql/react-dom.production.min.js",
        "/assets/vendor/graphiql/graphiql.min.js",
        "/assets/vendor/graphiql/graphiql.min.css",
        "/assets/graphiql.js",
    ] {
        assert!(assets.iter().any(|(p, _)| p == want), "{want} not loaded");
    }
    for (path, media) in &assets {
        assert!(
            path.starts_with("/assets/"),
            "`{path}` is not a local asset"
        );
        let res = s.http.get(s.url(path)).send().await.expect("get asset");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let got = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(got.starts_with(media), "{path}: {got}");
        let body = res.bytes().await.expect("asset body");
        assert!(body.len() > 100, "{path} is empty");
        if path == "/assets/graphiql.js" {
            no_other_host("graphiql.js", &String::from_utf8_lossy(&body));
        }
    }

    // A link that carries a query still gets JSON, not the page.
    let res = s
        .http
        .get(s.url("/graphql?query=%7B__typename%7D"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["data"]["__typename"], "Query");
    s.stop().await;
}
