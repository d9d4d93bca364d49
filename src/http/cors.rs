//! Cross-origin use from a browser (`--cors-origins`): pages of the listed
//! origins may call the API with a bearer token; preflight requests are
//! answered. None are allowed by default, and credentials (the session
//! cookie) are never allowed across origins.

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The configured origins, checked: each is `scheme://host[:port]`, as a
/// browser sends it in `Origin`.
pub fn origins(configured: &[String]) -> anyhow::Result<Vec<HeaderValue>> {
    configured
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let wrong = || {
                anyhow::anyhow!(
                    "--cors-origins: `{o}` is not an origin; write it as a browser sends it, e.g. https://addin.example.org (scheme, host and port only)"
                )
            };
            let url = url::Url::parse(o).map_err(|_| wrong())?;
            let origin = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || origin != o.trim_end_matches('/') {
                return Err(wrong());
            }
            HeaderValue::from_str(&origin).map_err(|_| wrong())
        })
        .collect()
}

/// The layer, when any origin is allowed.
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_NONE_MATCH,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([header::ETAG, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        let ok = origins(&[
            "https://addin.example.org".into(),
            "http://localhost:3000/".into(),
        ])
        .expect("valid");
        assert_eq!(ok, ["https://addin.example.org", "http://localhost:3000"]);
        for bad in [
            "addin.example.org",
            "https://addin.example.org/path",
            "ftp://x.org",
            "*",
        ] {
            let e = origins(&[bad.into()]).expect_err(bad).to_string();
            assert!(e.contains("is not an origin"), "{e}");
        }
        assert!(origins(&[]).expect("none").is_empty());
    }
}
