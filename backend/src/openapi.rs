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
        (name = "passkeys", description = "Passkeys and security keys (WebAuthn)"),
        (name = "support", description = "Support desk (role `support`)"),
        (name = "meta", description = "Health, keys, API description"),
        (name = "OpenID Connect", description = "custadmin as an OpenID Connect provider: the protocol's endpoints (at the root, answering OAuth errors) and the SPA's side of an authorization request (under `/api/v1`, answering problems)"),
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
                        "Access token from `/auth/login`, `/auth/otp` or `/auth/refresh`; on the \
                         operations that say so, also an API token (`cat_...`) with the scope \
                         they name",
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
    let mut document = mount(App::new().into_utoipa_app()).split_for_parts().1;
    add_standard_problems(&mut document);
    describe_optional_bodies_plainly(&mut document);
    document
}

/// An optional body is described as the object itself with `required: false`, not as
/// "null or the object": standard generators (openapi-python-client, for one) then leave the
/// body out when a caller gives none, instead of failing to serialise their "unset" marker.
/// The server takes no body, an empty body and `null` alike.
fn describe_optional_bodies_plainly(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::{RefOr, Required};
    for item in document.paths.paths.values_mut() {
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            let Some(body) = operation.request_body.as_mut() else {
                continue;
            };
            if body.required == Some(Required::True) {
                continue;
            }
            for content in body.content.values_mut() {
                let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
                    continue;
                };
                let mut non_null = one_of.items.iter().filter(|item| {
                    !matches!(item, RefOr::T(Schema::Object(object))
                        if object.schema_type == utoipa::openapi::schema::SchemaType::Type(utoipa::openapi::Type::Null))
                });
                if let (Some(only), None) = (non_null.next(), non_null.next()) {
                    content.schema = Some(only.clone());
                }
            }
            body.required = Some(Required::False);
        }
    }
}

/// Problems any operation of a kind can answer, documented once here instead of on every
/// handler: body errors where there is a JSON body, `401` where a token is needed, `503` where
/// the database is. An operation's own description of a status wins.
fn add_standard_problems(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                crate::error::PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in document.paths.paths.iter_mut() {
        let is_api = path.starts_with("/api/v1/");
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            let mut standard = Vec::new();
            if operation.request_body.is_some() {
                standard.push(("400", "Malformed JSON (`malformed_request`)"));
                standard.push(("413", "Body over 16 KiB (`payload_too_large`)"));
                standard.push((
                    "415",
                    "Body sent as something other than JSON (`unsupported_media_type`)",
                ));
                standard.push(("422", "Missing or mistyped fields (`invalid_body`) or invalid values (`validation_failed`)"));
            }
            if operation.security.is_some() {
                standard.push((
                    "401",
                    "Missing, invalid, expired or revoked access token (`invalid_token`)",
                ));
            }
            if operation
                .parameters
                .as_ref()
                .is_some_and(|parameters| !parameters.is_empty())
            {
                standard.push(("400", "Malformed query or path (`invalid_query`)"));
            }
            // These answer from memory (the health check says an outage in its own body).
            if is_api
                && !path.ends_with("/health")
                && !path.ends_with("/health/live")
                && !path.ends_with("/openapi.json")
                && !path.ends_with("/config")
                && !path.starts_with("/api/v1/brand/")
            {
                standard.push((
                    "503",
                    "Database unreachable (`database_unavailable`) or server busy (`server_busy`); see `Retry-After`",
                ));
            }
            for (status, description) in standard {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description).into());
            }
        }
    }
}

/// The committed `openapi.yaml` is exactly this text.
pub fn document_yaml() -> Result<String, String> {
    document().to_yaml().map_err(|error| error.to_string())
}
