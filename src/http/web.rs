//! The browser workspace: the page shell and its assets (embedded in the
//! binary, nothing fetched from another host); the session endpoints are in
//! [`super::session`].
//!
//! - `GET /assets/…`: the workspace's scripts, styles and catalogues.
//! - `GET /graphql` from a browser: GraphiQL (`web/graphiql.html`, with its
//!   vendored scripts and styles under `/assets/vendor/graphiql/`).
//! - any other `GET` a browser sends for a page: the shell, which the
//!   workspace's script fills in from the GraphQL API.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::auth;
use crate::error::AppError;

/// The workspace's files (`web/`): read from disk in debug builds, embedded in
/// release builds.
#[derive(rust_embed::Embed)]
#[folder = "web/"]
#[exclude = "*.md"]
#[exclude = "node_modules/*"]
struct Assets;

/// The languages of the interface (the first is the default).
pub const LANGUAGES: [&str; 2] = ["en", "fr"];
/// The cookie that keeps a chosen language.
const LANGUAGE_COOKIE: &str = "kitreview_lang";

/// What every page and asset is served with. No inline script or style, no
/// other host, never in a frame.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The GraphiQL page's: [`CSP`], but its vendored stylesheet carries its
/// fonts as `data:` URLs. Scripts stay same-origin files.
const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn secure_headers(h: &mut HeaderMap) {
    secure_headers_with(h, CSP);
}

fn secure_headers_with(h: &mut HeaderMap, csp: &'static str) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

pub(super) fn refused(status: StatusCode, e: &AppError) -> Response {
    let mut res = super::files::error(e);
    *res.status_mut() = status;
    res
}

/// The interface language: the `kitreview_lang` cookie, else the best of
/// `Accept-Language`, else English.
pub fn language(headers: &HeaderMap) -> &'static str {
    let chosen = auth::cookie(headers, LANGUAGE_COOKIE)
        .and_then(|c| LANGUAGES.iter().find(|l| **l == c).copied());
    if let Some(l) = chosen {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut best: Option<(&'static str, f32)> = None;
    for item in accept.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(l) = LANGUAGES.iter().find(|l| **l == primary) {
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((l, q));
            }
        }
    }
    best.map(|(l, _)| l).unwrap_or(LANGUAGES[0])
}

/// Any `GET` that is not the API: the page shell for a browser, else 404.
pub async fn page(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if method != Method::GET || !wants_html || uri.path().starts_with("/assets/") {
        return refused(
            StatusCode::NOT_FOUND,
            &AppError::not_found(format!("`{}`", uri.path())),
        );
    }
    let mut res = html_file("index.html", language(&headers), CSP);
    res.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    res
}

/// An HTML file of `web/` as a page (`{{lang}}` filled in), revalidated on
/// every load, with the secure headers.
fn html_file(name: &str, lang: &str, csp: &'static str) -> Response {
    let Some(file) = Assets::get(name) else {
        return refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            &AppError::internal(anyhow::anyhow!("the page `{name}` is missing")),
        );
    };
    let html = String::from_utf8_lossy(&file.data).replace("{{lang}}", lang);
    let mut res = (StatusCode::OK, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure_headers_with(h, csp);
    res
}

/// GraphiQL (`GET /graphql` from a browser): the page `web/graphiql.html`,
/// whose GraphiQL, React and styles are vendored in `web/vendor/graphiql/`.
pub(crate) fn graphiql() -> Response {
    html_file("graphiql.html", LANGUAGES[0], GRAPHIQL_CSP)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "html" => "text/html; charset=utf-8",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The largest asset compressed on the fly. Each anonymous request would
/// otherwise cost its full compression: GraphiQL's 3.5 MB bundle goes out as
/// it is (once per browser: it is revalidated by ETag).
const MAX_COMPRESSED_ASSET: u64 = 512 * 1024;

/// Whether an asset response is small enough to compress on the fly (with
/// tower-http's default rules, in `router`): the workspace's own files, not
/// the vendored GraphiQL bundle.
pub fn small_asset(
    _: StatusCode,
    _: axum::http::Version,
    headers: &HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= MAX_COMPRESSED_ASSET)
}

/// `GET /assets/{path}`: revalidated by ETag (the content's hash).
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return refused(
            StatusCode::NOT_FOUND,
            &AppError::not_found(format!("asset `{path}`")),
        );
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = super::conditional::none_match_holds(&headers, &etag);
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // Release builds embed the files: served from the binary, not copied.
        let body = match file.data {
            std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
            std::borrow::Cow::Owned(v) => Bytes::from(v),
        };
        let len = body.len();
        let mut res = (StatusCode::OK, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        res
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    secure_headers(h);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, v.parse().unwrap());
        h
    }

    #[test]
    fn the_language_follows_the_browser_then_the_cookie() {
        assert_eq!(language(&HeaderMap::new()), "en");
        assert_eq!(language(&accept("fr-FR,fr;q=0.9,en;q=0.8")), "fr");
        assert_eq!(language(&accept("de,en;q=0.5,fr;q=0.7")), "fr");
        assert_eq!(language(&accept("sw")), "en");
        let mut h = accept("fr");
        h.insert(header::COOKIE, "kitreview_lang=en".parse().unwrap());
        assert_eq!(language(&h), "en");
    }

    /// Every string the scripts ask for is in every catalogue, and the
    /// catalogues agree on their keys and on each message's placeholders.
    #[test]
    fn catalogues_cover_the_scripts() {
        use std::collections::BTreeSet;
        let catalogue = |lang: &str| -> serde_json::Map<String, serde_json::Value> {
            let file = Assets::get(&format!("i18n/{lang}.json")).expect("catalogue");
            serde_json::from_slice(&file.data).expect("catalogue is JSON")
        };
        fn placeholders(v: &serde_json::Value) -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            let texts: Vec<&str> = match v {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Object(forms) => {
                    assert!(forms.contains_key("other"), "a plural needs `other`: {v}");
                    forms.values().filter_map(|f| f.as_str()).collect()
                }
                _ => panic!("a message is a string or plural forms: {v}"),
            };
            for t in texts {
                for part in t.split('{').skip(1) {
                    if let Some((name, _)) = part.split_once('}') {
                        out.insert(name.to_owned());
                    }
                }
            }
            out
        }
        let en = catalogue(LANGUAGES[0]);
        for lang in &LANGUAGES[1..] {
            let other = catalogue(lang);
            let a: BTreeSet<_> = en.keys().collect();
            let b: BTreeSet<_> = other.keys().collect();
            assert_eq!(a, b, "the {lang} catalogue has other keys than en");
            for (k, v) in &en {
                assert_eq!(placeholders(v), placeholders(&other[k]), "{lang}: `{k}`");
            }
        }
        let mut asked = 0;
        for path in Assets::iter().filter(|p| p.ends_with(".js") && !p.starts_with("vendor/")) {
            let file = Assets::get(&path).expect("listed");
            let src = String::from_utf8_lossy(&file.data).into_owned();
            for quote in ['\'', '`'] {
                let call = format!("t({quote}");
                for (at, _) in src.match_indices(&call) {
                    // `t(` itself, not the end of `get(` or `x.t(`
                    let before = src[..at].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || matches!(before, '_' | '.' | '$') {
                        continue;
                    }
                    let part = &src[at + call.len()..];
                    let Some((key, _)) = part.split_once(quote) else {
                        continue;
                    };
                    asked += 1;
                    match key.split_once("${") {
                        Some((stem, _)) => assert!(
                            en.keys().any(|k| k.starts_with(stem)),
                            "{path}: no message starts with `{stem}`"
                        ),
                        None => assert!(
                            en.contains_key(key),
                            "{path}: `{key}` is not in the catalogue"
                        ),
                    }
                }
            }
        }
        assert!(asked > 100, "the scripts ask for {asked} strings");
    }
}
