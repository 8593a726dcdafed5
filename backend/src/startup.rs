//! Building and running the server. `Application::build` binds the listener itself, so tests
//! ask for port 0 and read the real port back.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_cors::Cors;
use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;
use webauthn_rs::Webauthn;

use crate::auth::keys::{KeyError, KeyFiles, KeyReloader};
use crate::auth::password::PasswordHasher;
use crate::auth::secret_box::SecretBox;
use crate::breached_passwords::BreachedPasswords;
use crate::config::{ConfigError, Settings};
use crate::db::{Database, DatabaseSetupError};
use crate::domain::clock::SharedClock;
use crate::routes::meta::OpenApiJson;
use crate::routes::{
    no_store_when_authenticated, problem_for_bare_errors, unmatched_request, RouteTable,
};
use crate::service::AppState;
use crate::{openapi, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Said as `main` says a bad value it read.
    #[error("configuration error: {0}")]
    Configuration(#[from] ConfigError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Database(#[from] DatabaseSetupError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl From<crate::auth::password::HashingError> for StartupError {
    fn from(error: crate::auth::password::HashingError) -> Self {
        Self::Other(error.to_string())
    }
}

impl From<crate::auth::tokens::TokenError> for StartupError {
    fn from(error: crate::auth::tokens::TokenError) -> Self {
        Self::Other(error.to_string())
    }
}

/// What settings must also be to start the parts built from them, beyond what reading them
/// checks: `main` asks before it does anything else, so these stop start-up as a bad value does.
pub fn check_settings(settings: &Settings) -> Result<(), ConfigError> {
    relying_party(settings).map(drop)
}

/// The passkeys' relying party: the public URL's host, shown to customers as the site name.
fn relying_party(settings: &Settings) -> Result<Webauthn, ConfigError> {
    crate::auth::webauthn::relying_party(&settings.public_url, &settings.site_name).map_err(
        |error| ConfigError::Invalid {
            variable: "CUSTADMIN_PUBLIC_URL".into(),
            message: error.to_string(),
        },
    )
}

/// Builds the shared state: keys, database (migrated), hasher, token keys.
pub async fn build_state(settings: Settings, clock: SharedClock) -> Result<AppState, StartupError> {
    let webauthn = relying_party(&settings)?;
    let key_files = KeyFiles::from_settings(&settings);
    let keys = key_files.load_or_create()?;
    // Clones share the keys; the reloader holds ones without a reloader of their own.
    let secret_box = SecretBox::from_ring(keys.secret_ring());
    let token_keys = keys.token_keys(&settings.issuer)?;
    let key_reloader = KeyReloader::new(key_files, secret_box.clone(), token_keys.clone());
    let (url, pool_size) = (settings.database_url.clone(), settings.database_pool_size);
    let database = tokio::task::spawn_blocking(move || Database::connect(&url, pool_size))
        .await
        .map_err(|error| StartupError::Other(error.to_string()))??;
    let breached_passwords = settings
        .breached_passwords_url
        .as_deref()
        .map(|url| BreachedPasswords::new(url, settings.breached_passwords_timeout))
        .transpose()
        .map_err(StartupError::Other)?
        .map(Arc::new);
    Ok(AppState {
        password_hasher: PasswordHasher::new(settings.password_hashing)?,
        breached_passwords,
        token_keys: token_keys.with_reloader(key_reloader.clone()),
        secret_box: secret_box.with_reloader(key_reloader.clone()),
        key_reloader,
        webauthn: Arc::new(webauthn),
        settings: Arc::new(settings),
        database,
        clock,
    })
}

/// A public URL on port 0 (the default when the bind address picks a free port) names the
/// port actually picked: links in mails and the passkeys' origin must carry it.
fn with_picked_port(public_url: &str, port: u16) -> String {
    match url::Url::parse(public_url) {
        Ok(mut url) if url.port() == Some(0) => {
            let _ = url.set_port(Some(port));
            url.as_str().trim_end_matches('/').to_string()
        }
        _ => public_url.to_string(),
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    pub async fn build(mut settings: Settings, clock: SharedClock) -> Result<Self, StartupError> {
        let address = settings.bind;
        let listener = TcpListener::bind(address).map_err(|source| StartupError::Bind {
            address: address.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|error| StartupError::Other(error.to_string()))?
            .port();
        settings.public_url = with_picked_port(&settings.public_url, port);
        let state = build_state(settings, clock).await?;
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let document = openapi::document();
    let route_table = web::Data::new(RouteTable::from_document(&document));
    let openapi_json = web::Data::new(OpenApiJson(
        document
            .to_json()
            .map_err(|error| StartupError::Other(error.to_string()))?,
    ));
    let static_dir = state.settings.static_dir.clone();
    let serve_spa = static_dir.join("index.html").is_file();
    if !serve_spa {
        tracing::warn!(dir = %static_dir.display(), "no built SPA found; serving the API only");
    }
    let cors_origins = state.settings.cors_origins.clone();
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        let (app, _) = openapi::mount(App::new().into_utoipa_app())
            .app_data(state.clone())
            .app_data(openapi_json.clone())
            .app_data(route_table.clone())
            .split_for_parts();
        let app = app
            // Anything else under /api is an unknown route, never the SPA.
            .service(web::scope("/api"))
            .configure(|config| {
                if serve_spa {
                    config.service(spa_files(&static_dir));
                }
            })
            .default_service(fn_service(unmatched_request))
            // Inside the error handlers, so its refusals become problem documents too.
            .wrap(cross_origin(&cors_origins))
            .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
            .wrap(from_fn(no_store_when_authenticated))
            .wrap(Compress::default())
            .wrap(security_headers())
            .wrap(from_fn(telemetry::request_span));
        app
    })
    .shutdown_timeout(30)
    .listen(listener)
    .map_err(|error| StartupError::Other(error.to_string()))?
    .run();
    Ok(server)
}

/// Cross-origin calls: the allow-listed origins (browser-based integrators, with bearer
/// tokens; never cookies) may call the API; what integrators verify tokens with, the API
/// description and the public settings are readable from any origin.
fn cross_origin(allowed: &[String]) -> Cors {
    const PUBLIC: [&str; 3] = [
        "/.well-known/jwks.json",
        "/api/v1/openapi.json",
        "/api/v1/config",
    ];
    let allowed = allowed.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            let listed = origin
                .to_str()
                .is_ok_and(|origin| allowed.iter().any(|allowed| allowed == origin));
            listed
                || (request.method == actix_web::http::Method::GET
                    && PUBLIC.contains(&request.uri.path()))
        })
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([actix_web::http::header::RETRY_AFTER])
        .max_age(3600)
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ))
}

/// The built SPA; paths that are not files are client-side routes and get `index.html`.
fn spa_files(static_dir: &Path) -> Files {
    let index = static_dir.join("index.html");
    Files::new("/", static_dir)
        .index_file("index.html")
        .default_handler(fn_service(move |request: ServiceRequest| {
            let index = index.clone();
            async move {
                let (request, _) = request.into_parts();
                let response = NamedFile::open_async(&index).await?.into_response(&request);
                Ok(ServiceResponse::new(request, response))
            }
        }))
}

#[cfg(test)]
mod tests {
    use super::{check_settings, with_picked_port};
    use crate::config::Settings;

    #[test]
    fn a_public_url_that_cannot_be_a_relying_party_names_its_variable() {
        let settings = Settings::from_sources(
            &[
                ("CUSTADMIN_CONFIG", "/dev/null"),
                ("CUSTADMIN_PUBLIC_URL", "http://192.0.2.7:8080"),
            ]
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .into(),
        )
        .unwrap();
        let error = check_settings(&settings).unwrap_err().to_string();
        assert!(
            error.starts_with("CUSTADMIN_PUBLIC_URL: must name a host"),
            "{error}"
        );
        let settings = Settings::from_sources(
            &[("CUSTADMIN_CONFIG", "/dev/null")]
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .into(),
        )
        .unwrap();
        assert!(check_settings(&settings).is_ok());
    }

    #[test]
    fn a_public_url_on_port_zero_takes_the_picked_port() {
        assert_eq!(
            with_picked_port("http://localhost:0", 41234),
            "http://localhost:41234"
        );
        assert_eq!(
            with_picked_port("https://admin.example.com", 41234),
            "https://admin.example.com"
        );
        assert_eq!(
            with_picked_port("http://localhost:8080", 41234),
            "http://localhost:8080"
        );
    }
}
