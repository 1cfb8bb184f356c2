//! The admin HTTP API of a running host, bound to loopback by default.
//!
//! - `GET /plugins`: every slot, as [`SlotStatus`];
//! - `PUT /plugins/{slot}`: a new version, either uploaded as the body with
//!   `Content-Type: application/wasm` (parameters, if any, as JSON in the
//!   `params` query argument), or named by a JSON body
//!   `{"path": "...", "params": {...}}`; the answer is [`Swapped`](super::Swapped);
//! - `POST /plugins/{slot}/rollback`: back to the previous version.
//!
//! Errors are JSON `{"error": "..."}` with a status that says whose they
//! are: 404 for an unknown slot, 409 for nothing to roll back to, 422 for a
//! component that was refused (the old version keeps running), 400 for a
//! request that could not be read.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use super::{Control, SlotStatus, Source, SwapError};

/// The largest component accepted by upload.
pub const MAX_UPLOAD: usize = 64 << 20;

/// The answer of `GET /plugins`.
#[derive(Debug, Serialize)]
pub struct Listing {
    pub slots: Vec<SlotStatus>,
}

/// The JSON body of a `PUT` that names a file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PutByPath {
    pub path: PathBuf,
    #[serde(default)]
    pub params: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    params: Option<String>,
}

/// The API's routes over a [`Control`].
pub fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/plugins", get(list))
        .route("/plugins/{slot}", put(swap))
        .route("/plugins/{slot}/rollback", post(rollback))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(control)
}

/// Binds the API's address; the listener's address is the one to tell
/// people (with port 0, the system chose it).
pub async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    use anyhow::Context;
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to bind the admin API to {address}"))
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    control: Arc<Control>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(control))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn list(State(control): State<Arc<Control>>) -> Response {
    blocking(move || {
        Ok(Listing {
            slots: control.status(),
        })
    })
    .await
}

async fn swap(
    State(control): State<Arc<Control>>,
    Path(slot): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (source, params) = if content_type.starts_with("application/wasm") {
        let params = match query.params.as_deref().map(serde_json::from_str) {
            None => None,
            Some(Ok(params)) => Some(params),
            Some(Err(e)) => {
                return bad_request(format!("the params argument is not a JSON object: {e}"));
            }
        };
        let source = Source::Bytes {
            name: format!("upload for slot '{slot}'"),
            bytes: body.to_vec(),
        };
        (source, params)
    } else if content_type.starts_with("application/json") {
        match serde_json::from_slice::<PutByPath>(&body) {
            Ok(put) => (Source::Path(put.path), put.params),
            Err(e) => return bad_request(format!("the body is not {{\"path\", \"params\"}}: {e}")),
        }
    } else {
        return bad_request(
            "send the component with Content-Type: application/wasm, or JSON {\"path\": ...} \
             with Content-Type: application/json"
                .to_string(),
        );
    };
    blocking(move || control.swap(&slot, source, params)).await
}

async fn rollback(State(control): State<Arc<Control>>, Path(slot): Path<String>) -> Response {
    blocking(move || control.rollback(&slot)).await
}

/// Runs a call of the controller (which compiles, and holds the chains) on
/// the blocking pool, and answers with its result.
async fn blocking<T: Serialize + Send + 'static>(
    call: impl FnOnce() -> Result<T, SwapError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(call).await {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        Ok(Err(e)) => error(status_of(&e), e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the call failed: {e}"),
        ),
    }
}

fn status_of(error: &SwapError) -> StatusCode {
    match error {
        SwapError::UnknownSlot(_) => StatusCode::NOT_FOUND,
        SwapError::NoPrevious(_) => StatusCode::CONFLICT,
        SwapError::Load(_) | SwapError::Start { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn bad_request(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn error(status: StatusCode, message: String) -> Response {
    tracing::warn!(status = status.as_u16(), "admin API: {message}");
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}
