//! Logs and request metrics. Each request gets an id (echoed as `X-Request-Id`) carried by its
//! span, so every line logged while answering it names it. Paths are logged without query
//! strings, and no body, header or token is ever logged.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// Where logs go: the server logs to stdout; one-off commands log to stderr, so their stdout
/// carries only their result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    Stdout,
    Stderr,
}

/// How log lines are written (`CUSTADMIN_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people reading a terminal or the journal.
    Text,
    /// One JSON object a line, for log shippers; a request's lines carry `span.request_id`.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not one of text, json")),
        }
    }
}

pub fn init(filter: &str, format: LogFormat, output: LogOutput) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let (writer, terminal) = match output {
        LogOutput::Stdout => (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogOutput::Stderr => (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        // Colours only for a person at a terminal, never into a file, pipe or journal.
        .with_ansi(terminal)
        .with_env_filter(filter)
        .with_target(false);
    // A second call (tests start many servers in one process) is harmless.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn request_span(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.path(),
    );
    let started = Instant::now();
    let method = request.method().clone();
    let mut response = next.call(request).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    crate::monitoring::http_request(
        method.as_str(),
        route_label(response.request().match_pattern()),
        status,
        started.elapsed(),
    );
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// The route a request matched, as a metrics label: the API's templates (`/api/v1/account/
/// sessions/{id}`), never the path itself, which holds ids and is any client's to choose.
fn route_label(pattern: Option<String>) -> String {
    match pattern {
        Some(pattern) if pattern.starts_with("/api") || pattern.starts_with("/.well-known") => {
            pattern
        }
        // The SPA's files and its client-side routes.
        Some(_) => "static".into(),
        None => "unmatched".into(),
    }
}
