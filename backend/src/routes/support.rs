//! `/support`: the support desk, for accounts with role `support` only.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::two_factor::TwoFactorStateResponse;
use crate::error::{ApiError, Problem};
use crate::service::{support, AppState, Principal, RequestOrigin};

pub fn configure(config: &mut ServiceConfig) {
    config.service(search_customers).service(reset_two_factor);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Part of a username or e-mail address, any case; empty lists the first 50 customers.
    #[param(max_length = 100)]
    pub query: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f", "username": "alice", "email": "alice@example.com", "two_factor_enabled": true}))]
pub struct CustomerSummary {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub two_factor_enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomersResponse {
    pub customers: Vec<CustomerSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Customer lost their phone; identity checked by callback to the number on file"}))]
pub struct ResetRequest {
    /// Why the reset is done (1 to 500 characters); recorded on both accounts.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// Find customers by username or e-mail.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(CustomerQuery),
    responses(
        (status = 200, description = "Up to 50 customers, by username", body = CustomersResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Query over 100 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/support/customers")]
async fn search_customers(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<CustomerQuery>,
) -> Result<HttpResponse, ApiError> {
    let customers = support::search_customers(&state, &principal, query.into_inner().query).await?;
    Ok(HttpResponse::Ok().json(CustomersResponse {
        customers: customers
            .into_iter()
            .map(|account| CustomerSummary {
                two_factor_enabled: account.two_factor_enabled(),
                id: account.id,
                username: account.username,
                email: account.email,
            })
            .collect(),
    }))
}

/// Switch a customer's two-factor off (lost phone). Signs out all the customer's sessions.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    request_body = ResetRequest,
    responses(
        (status = 200, description = "Two-factor is off for the customer", body = TwoFactorStateResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer's two-factor is off (`two_factor_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing or too long (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/support/customers/{id}/two-factor/reset")]
async fn reset_two_factor(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    support::reset_two_factor(
        &state,
        &principal,
        &path.into_inner(),
        &body.reason,
        &origin,
    )
    .await?;
    Ok(HttpResponse::Ok().json(TwoFactorStateResponse { enabled: false }))
}
