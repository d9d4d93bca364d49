//! Content negotiation for GraphQL over HTTP (`Accept` and `Content-Type`).

/// The response media types we can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors use 4xx statuses.
    GraphqlResponseJson,
    /// `application/json`: the legacy type; request errors still answer 200.
    Json,
}

impl Media {
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// One entry of an `Accept` header.
struct Range<'a> {
    essence: &'a str,
    q: f32,
}

fn ranges(accept: &str) -> impl Iterator<Item = Range<'_>> {
    accept.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let essence = pieces.next()?.trim();
        if essence.is_empty() {
            return None;
        }
        let mut q = 1.0;
        for p in pieces {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        Some(Range { essence, q })
    })
}

/// Pick the response type for an `Accept` header; `None` when nothing we make is acceptable.
/// No header means `application/json`; on equal preference `application/graphql-response+json` wins.
pub fn negotiate(accept: Option<&str>) -> Option<Media> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Media::Json);
    };
    let mut best: Option<(f32, Media)> = None;
    for r in ranges(accept) {
        let media = if r
            .essence
            .eq_ignore_ascii_case("application/graphql-response+json")
        {
            Media::GraphqlResponseJson
        } else if r.essence.eq_ignore_ascii_case("application/json")
            || r.essence == "*/*"
            || r.essence.eq_ignore_ascii_case("application/*")
        {
            Media::Json
        } else {
            continue;
        };
        if r.q <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((q, m)) => {
                r.q > q || (r.q == q && m == Media::Json && media == Media::GraphqlResponseJson)
            }
        };
        if better {
            best = Some((r.q, media));
        }
    }
    best.map(|(_, m)| m)
}

/// Does the `Accept` header ask for a web page (a browser)?
pub fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        ranges(a).any(|r| r.essence.eq_ignore_ascii_case("text/html") && r.q > 0.0)
    })
}

/// Is this `Content-Type` JSON in UTF-8 (the only request body we take)?
pub fn is_json_body(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mut parts = ct.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None), Some(Media::Json));
        assert_eq!(negotiate(Some("application/json")), Some(Media::Json));
        assert_eq!(negotiate(Some("*/*")), Some(Media::Json));
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some("application/json, application/graphql-response+json")),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(Some(
                "application/json;q=1, application/graphql-response+json;q=0.5"
            )),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("text/plain")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn content_types() {
        assert!(is_json_body(Some("application/json")));
        assert!(is_json_body(Some("application/json; charset=UTF-8")));
        assert!(!is_json_body(Some("application/json; charset=latin1")));
        assert!(!is_json_body(Some("text/plain")));
        assert!(!is_json_body(None));
        assert!(wants_html(Some(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!wants_html(Some("application/json")));
    }
}
