//! Cross-origin use (`--cors-origins`): a listed origin's page gets its
//! preflight answered and may read the answers of requests made with a bearer
//! token; any other origin gets no `Access-Control-*` header (the browser
//! then refuses it); with none configured, nothing changes.

use serde_json::json;

use crate::backend_tests;
use crate::common::{auth_args, Backend, Options, TestServer};
use kitreview::domain::accounts::Role;

const ADDIN: &str = "https://addin.example.org";

async fn preflight(s: &TestServer, origin: &str) -> reqwest::Response {
    s.http
        .request(reqwest::Method::OPTIONS, s.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight")
}

fn allowed(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().expect("text").to_owned())
}

async fn listed_origins_may_call_the_api(b: Backend) {
    let opts = Options {
        auth: kitreview::config::AuthArgs {
            cors_origins: vec![ADDIN.into()],
            ..auth_args()
        },
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    let res = preflight(&s, ADDIN).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(allowed(&res).as_deref(), Some(ADDIN));
    let h = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().expect("text").to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert!(
        h("access-control-allow-methods").contains("post"),
        "{:?}",
        res.headers()
    );
    assert!(
        h("access-control-allow-headers").contains("authorization"),
        "{:?}",
        res.headers()
    );
    assert!(res
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    // Another origin: no permission.
    assert_eq!(allowed(&preflight(&s, "https://evil.example").await), None);

    // The real request, with a bearer token.
    s.user("addin@example.org", "ITU", &[Role::Member]).await;
    let token = s.login("addin@example.org", crate::common::PASSWORD).await;
    let res = s
        .http
        .post(s.url("/graphql"))
        .header("origin", ADDIN)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ viewer { email } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(allowed(&res).as_deref(), Some(ADDIN));
    let expose = res
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().expect("text").to_ascii_lowercase())
        .unwrap_or_default();
    assert!(
        expose.contains("etag") && expose.contains("retry-after"),
        "{expose}"
    );
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(
        body["data"]["viewer"]["email"], "addin@example.org",
        "{body}"
    );
    s.stop().await;
}

async fn no_origin_is_allowed_by_default(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let res = preflight(&s, ADDIN).await;
    assert_eq!(allowed(&res), None);
    assert_eq!(res.status(), 405);
    s.stop().await;
}

backend_tests!(
    listed_origins_may_call_the_api,
    no_origin_is_allowed_by_default
);
