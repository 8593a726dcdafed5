//! `GET /metrics` on the metrics listener (`CUSTADMIN_METRICS_BIND`): the Prometheus text
//! format. Not part of the API (not in its description, never on the public port).

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::service::health::sample_gauges;
use crate::service::AppState;

/// The exposition format's content type (version 0.0.4 of the text format).
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn scrape(
    state: web::Data<AppState>,
    recorder: web::Data<PrometheusHandle>,
) -> HttpResponse {
    sample_gauges(&state).await;
    HttpResponse::Ok()
        .content_type(TEXT_FORMAT)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(recorder.render())
}
