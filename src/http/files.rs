//! Files: the consolidated comments table as CSV (streamed) or XLSX, and the
//! import of a delegation's comments template. Bearer token as for GraphQL;
//! the same visibility rules. Errors use GraphQL's error shape.

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::HttpState;
use crate::auth::{AuthUser, Viewer};
use crate::domain::ids::{GlobalId, NodeKind};
use crate::domain::page::Page;
use crate::error::AppError;
use crate::service::idempotency::IdempotencyKey;
use crate::service::import::{self, ImportError};
use crate::service::table::{neutralize_formula, Table, HEADERS};

/// Rows read per database round trip while exporting.
const EXPORT_PAGE: usize = 500;

pub(crate) fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) | AppError::PasswordChangeRequired(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Validation { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) | AppError::Stale { .. } | AppError::CycleClosed(_) => {
            StatusCode::CONFLICT
        }
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) | AppError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn json(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

pub(crate) fn error(e: &AppError) -> Response {
    if let AppError::Internal(inner) = e {
        tracing::error!(error = ?inner, "file request failed");
    }
    let message = match e {
        AppError::Internal(_) => "internal error".to_owned(),
        other => other.to_string(),
    };
    json(
        status_of(e),
        json!({ "errors": [ { "message": message, "extensions": { "code": e.code() } } ] }),
    )
}

/// The signed-in user and the cycle named in the path.
async fn signed_in(
    s: &HttpState,
    headers: &axum::http::HeaderMap,
    cycle: &str,
    changes_state: bool,
) -> Result<(std::sync::Arc<AuthUser>, i64), AppError> {
    let user = match super::auth::viewer(s, headers, changes_state).await {
        Ok(Viewer::User(u)) => u,
        Ok(Viewer::Anonymous) => {
            return Err(AppError::Unauthenticated(
                "sign in: send `Authorization: Bearer <token>`, or sign in to the workspace".into(),
            ))
        }
        Err((_, e)) => return Err(e),
    };
    let id = GlobalId::parse_kind(cycle, NodeKind::ReviewCycle)
        .map_err(|_| AppError::not_found("review cycle"))?;
    Ok((user, id))
}

/// `GET /exports/cycles/{id}/comments.csv` or `.xlsx`.
pub async fn export(
    State(s): State<HttpState>,
    Path((id, file)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let (user, id) = match signed_in(&s, &headers, &id, false).await {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    let format = match file.as_str() {
        "comments.csv" => Format::Csv,
        "comments.xlsx" => Format::Xlsx,
        _ => {
            return error(&AppError::not_found(
                "export (use comments.csv or comments.xlsx)",
            ))
        }
    };
    let table = match Table::open(&s.app, &user, id).await {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    let name = format!("cycle-{id}-comments.{}", format.extension());
    let result = match format {
        Format::Csv => Ok(csv_stream(s, table)),
        Format::Xlsx => xlsx(&s, &table).await.map(Body::from),
    };
    match result {
        Ok(body) => {
            let mut res = (StatusCode::OK, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.media_type()),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            res
        }
        Err(e) => error(&e),
    }
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
    fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

fn next_page(after: Option<(i64, i64)>) -> Page {
    Page {
        limit: EXPORT_PAGE,
        after,
        before: None,
        from_end: false,
    }
}

/// The CSV, written page by page as the client reads it: memory stays flat
/// whatever the number of comments. A UTF-8 BOM first, so that Excel reads
/// the accents right.
fn csv_stream(s: HttpState, table: Table) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut buf = Vec::with_capacity(64 * 1024);
        buf.extend_from_slice("\u{feff}".as_bytes());
        let mut w = csv::Writer::from_writer(buf);
        if w.write_record(HEADERS).is_err() {
            return;
        }
        let mut after = None;
        loop {
            let page = {
                let mut pooled = match s.app.db.read().await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = ?e, "export failed");
                        let _ = tx
                            .send(Err(std::io::Error::other("database unavailable")))
                            .await;
                        return;
                    }
                };
                table.page(&mut pooled.conn(), &next_page(after)).await
            };
            let (rows, more) = match page {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = ?e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            for r in &rows {
                let cells = r.cells();
                if w.write_record(cells.iter().map(|c| neutralize_formula(c).into_owned()))
                    .is_err()
                {
                    return;
                }
            }
            after = rows.last().map(|r| r.key);
            let _ = w.flush();
            let chunk = match w.into_inner() {
                Ok(b) => b,
                Err(_) => return,
            };
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return; // the client went away
            }
            if !more || after.is_none() {
                return;
            }
            w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::with_capacity(64 * 1024));
        }
    });
    Body::from_stream(tokio_stream_from(rx))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The XLSX: a header row (bold, frozen), wrapped text, column widths for
/// reading; rows spooled to a temporary file as they are written.
async fn xlsx(s: &HttpState, table: &Table) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format as Cell, FormatAlign, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory();
    let x = |e: rust_xlsxwriter::XlsxError| AppError::internal(anyhow::anyhow!("xlsx: {e}"));
    sheet.set_name("Comments").map_err(x)?;
    let head = Cell::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let wrap = Cell::new().set_text_wrap().set_align(FormatAlign::Top);
    let widths = [6.0, 10.0, 10.0, 18.0, 8.0, 60.0, 50.0, 20.0, 50.0];
    for (i, w) in widths.iter().enumerate() {
        sheet.set_column_width(i as u16, *w).map_err(x)?;
    }
    for (i, h) in HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, *h, &head)
            .map_err(x)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(x)?;
    let mut row_no: u32 = 1;
    let mut after = None;
    loop {
        let (rows, more) = {
            let mut pooled = s.app.db.read().await?;
            table.page(&mut pooled.conn(), &next_page(after)).await?
        };
        for r in &rows {
            sheet
                .write_number_with_format(row_no, 0, r.number as f64, &wrap)
                .map_err(x)?;
            for (i, v) in r.cells().iter().enumerate().skip(1) {
                sheet
                    .write_string_with_format(row_no, i as u16, v, &wrap)
                    .map_err(x)?;
            }
            row_no += 1;
        }
        after = rows.last().map(|r| r.key);
        if !more || after.is_none() {
            break;
        }
    }
    book.save_to_buffer().map_err(x)
}

/// `POST /imports/cycles/{id}/comments`: a CSV or XLSX comments template.
pub async fn import(
    State(s): State<HttpState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (user, id) = match signed_in(&s, &headers, &id, true).await {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "errors": [ { "message": format!(
                    "the upload is over the limit of {} bytes", s.app.limits.max_upload_bytes
                ), "extensions": { "code": "PAYLOAD_TOO_LARGE" } } ] }),
            )
        }
        Err(rejection) => {
            return json(
                rejection.status(),
                json!({ "errors": [ { "message": rejection.body_text(), "extensions": { "code": "BAD_REQUEST" } } ] }),
            )
        }
    };
    // `Idempotency-Key`: the same upload sent again replays the first import.
    let key = match headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| {
                    AppError::validation("Idempotency-Key", "the header is not valid text")
                })
                .and_then(|k| IdempotencyKey::parse("Idempotency-Key", k))
        })
        .transpose()
    {
        Ok(k) => k,
        Err(e) => return error(&e),
    };
    match import::import(&s.app, &user, id, body.to_vec(), key.as_ref()).await {
        Ok(rows) => json(
            StatusCode::CREATED,
            json!({
                "imported": rows.len(),
                "comments": rows.iter().map(|r| json!({
                    "id": GlobalId::new(NodeKind::Comment, r.id).to_string(),
                    "number": r.number,
                })).collect::<Vec<_>>(),
            }),
        ),
        Err(ImportError::Other(e)) => error(&e),
        Err(ImportError::TooLarge(message)) => json(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "errors": [ { "message": message, "extensions": { "code": "PAYLOAD_TOO_LARGE" } } ] }),
        ),
        Err(ImportError::Rows(list)) => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "errors": list.iter().map(|e| json!({
                "message": e.message,
                "extensions": { "code": "VALIDATION", "row": e.row, "column": e.column },
            })).collect::<Vec<_>>() }),
        ),
    }
}
