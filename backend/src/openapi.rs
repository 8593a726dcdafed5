//! The OpenAPI document. Paths and schemas are collected from the route registrations
//! (utoipa-actix-web), so the document cannot list a route that does not exist or miss one.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt, UtoipaApp};

use crate::error::Problem;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "custadmin",
        version = "1.0.0",
        description = "Customer administration with two-factor login. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`.",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only"),
    ),
    tags(
        (name = "auth", description = "Sign-up, sign-in, refresh, sign-out"),
        (name = "account", description = "The signed-in account"),
        (name = "two-factor", description = "TOTP two-factor authentication"),
        (name = "support", description = "Support desk (role `support`)"),
        (name = "meta", description = "Health, keys, API description"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `/auth/login`, `/auth/otp` or `/auth/refresh`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Mounts every documented route: the `/api/v1` API and the JWKS at the root.
pub fn mount<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(scope::scope("/api/v1").configure(routes::configure_api))
        .service(routes::meta::jwks)
}

/// The document, built without starting a server.
pub fn document() -> utoipa::openapi::OpenApi {
    mount(App::new().into_utoipa_app()).split_for_parts().1
}

/// The committed `openapi.yaml` is exactly this text.
pub fn document_yaml() -> Result<String, String> {
    document().to_yaml().map_err(|error| error.to_string())
}
