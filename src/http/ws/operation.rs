//! One operation on a socket: executed, its results sent as `next` messages,
//! then `complete` (or one `error`).

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::{HttpState, Out};
use crate::graphql::request;

/// One protocol message, serialized straight from the response so that its
/// objects keep the selection order (a `serde_json::Value` would sort them).
pub(super) fn envelope<P: serde::Serialize>(ty: &str, id: &str, payload: &P) -> String {
    #[derive(serde::Serialize)]
    struct Envelope<'a, P> {
        #[serde(rename = "type")]
        ty: &'a str,
        id: &'a str,
        payload: &'a P,
    }
    serde_json::to_string(&Envelope { ty, id, payload }).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialize a response");
        json!({ "type": "error", "id": id, "payload": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
            .to_string()
    })
}

/// Execute one operation and send its results: `next` per result, then
/// `complete`; a request that fails before execution gets one `error`. A query
/// or mutation has the same time limit as over HTTP (answered with a TIMEOUT
/// error); a subscription runs until it is completed.
pub(super) async fn run_operation(
    s: HttpState,
    prepared: request::Prepared,
    id: String,
    generation: u64,
    is_subscription: bool,
    out: mpsc::Sender<Out>,
) {
    let send = |text: String, last: bool| {
        out.send(Out {
            id: id.clone(),
            generation,
            text,
            last,
        })
    };
    // Counted while it runs (dropped when it ends or is stopped).
    struct Running;
    impl Drop for Running {
        fn drop(&mut self) {
            metrics::gauge!("kitreview_ws_subscriptions").decrement(1.0);
        }
    }
    let _running = is_subscription.then(|| {
        metrics::gauge!("kitreview_ws_subscriptions").increment(1.0);
        Running
    });
    let shape = prepared.shape;
    let mut stream = s.schema.execute_stream(prepared.request);
    let deadline = tokio::time::Instant::now() + s.app.limits.request_timeout;
    let mut first = true;
    loop {
        let next = if is_subscription {
            stream.next().await
        } else {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match crate::deadline::run(left, stream.next()).await {
                Some(n) => n,
                None => {
                    let payload = json!([{
                        "message": format!(
                            "the operation ran past the time limit of {}; nothing was stored",
                            humantime::format_duration(s.app.limits.request_timeout)
                        ),
                        "extensions": { "code": "TIMEOUT" }
                    }]);
                    let _ = send(
                        json!({ "type": "error", "id": id, "payload": payload }).to_string(),
                        true,
                    )
                    .await;
                    return;
                }
            }
        };
        let Some(mut response) = next else { break };
        shape.finish(&mut response);
        let before_execution = first
            && response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        first = false;
        if before_execution {
            let _ = send(envelope("error", &id, &response.errors), true).await;
            return;
        }
        if send(envelope("next", &id, &response), false).await.is_err() {
            return;
        }
        if !is_subscription {
            break;
        }
    }
    let _ = send(json!({ "type": "complete", "id": id }).to_string(), true).await;
}
