//! Building and running the server. `Application::build` binds the listener itself, so tests
//! ask for port 0 and read the real port back.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_cors::Cors;
use actix_files::{Files, NamedFile};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{fn_service, Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, ErrorHandlers, Next};
use actix_web::ResponseError;
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
use crate::error::ApiError;
use crate::routes::meta::OpenApiJson;
use crate::routes::{
    no_store_when_authenticated, problem_for_bare_errors, unmatched_request, RouteTable,
};
use crate::service::AppState;
use crate::{monitoring, openapi, telemetry};
use metrics_exporter_prometheus::PrometheusHandle;

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
    let oidc_keys = keys.oidc_keys(token_keys.clone(), &settings.public_url)?;
    let key_reloader = KeyReloader::new(
        key_files,
        secret_box.clone(),
        token_keys.clone(),
        oidc_keys.clone(),
    );
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
        oidc_keys: oidc_keys.with_reloader(key_reloader.clone()),
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
    /// The metrics listener's port and server, when `CUSTADMIN_METRICS_BIND` is set.
    metrics: Option<(u16, Server)>,
    state: AppState,
}

fn bind(address: std::net::SocketAddr) -> Result<(TcpListener, u16), StartupError> {
    let listener = TcpListener::bind(address).map_err(|source| StartupError::Bind {
        address: address.to_string(),
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|error| StartupError::Other(error.to_string()))?
        .port();
    Ok((listener, port))
}

impl Application {
    pub async fn build(mut settings: Settings, clock: SharedClock) -> Result<Self, StartupError> {
        let (listener, port) = bind(settings.bind)?;
        let metrics_listener = settings.metrics_bind.map(bind).transpose()?;
        settings.public_url = with_picked_port(&settings.public_url, port);
        let state = build_state(settings, clock).await?;
        let metrics = match metrics_listener {
            Some((listener, metrics_port)) => Some((
                metrics_port,
                run_metrics(
                    listener,
                    state.clone(),
                    monitoring::install().map_err(StartupError::Other)?,
                )?,
            )),
            None => None,
        };
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            metrics,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish; the metrics
    /// listener stops after the public one, so the last scrape sees the drain.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((_, metrics)) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.handle();
        let metrics = tokio::spawn(metrics);
        let served = self.server.await;
        metrics_handle.stop(true).await;
        let _ = metrics.await;
        served
    }
}

/// The metrics listener: `GET /metrics` and nothing else. It takes no signals of its own; the
/// application stops it once the public server has stopped.
fn run_metrics(
    listener: TcpListener,
    state: AppState,
    recorder: PrometheusHandle,
) -> Result<Server, StartupError> {
    // Folds recent histogram samples into their buckets between scrapes, so memory stays
    // flat however rarely Prometheus comes.
    let upkeep = recorder.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            interval.tick().await;
            upkeep.run_upkeep();
        }
    });
    let state = web::Data::new(state);
    let recorder = web::Data::new(recorder);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(recorder.clone())
            .route("/metrics", web::get().to(crate::routes::prometheus::scrape))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)
    .map_err(|error| StartupError::Other(error.to_string()))?
    .run())
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
    let https = state.settings.public_url.starts_with("https://");
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
                    config.service(
                        web::scope("")
                            .wrap(from_fn(static_delivery))
                            .service(spa_files(&static_dir)),
                    );
                }
            })
            .default_service(fn_service(unmatched_request))
            // Inside the error handlers, so its refusals become problem documents too.
            .wrap(cross_origin(&cors_origins))
            // Outside the allow-list, which would refuse these paths' preflights.
            .wrap(from_fn(open_to_any_origin))
            .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
            .wrap(from_fn(no_store_when_authenticated))
            .wrap(Compress::default())
            .wrap(security_headers(https))
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
/// description and the public settings are readable from any origin. (The OpenID Connect
/// endpoints relying parties call are [`open_to_any_origin`]'s.)
fn cross_origin(allowed: &[String]) -> Cors {
    const PUBLIC: [&str; 4] = [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
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

/// What a relying party running in a browser (a public client: a single-page app on its own
/// origin) calls with the tokens it holds: the token, UserInfo and revocation endpoints, and
/// the keys and discovery to verify what they answer. No cookie ever authenticates them (the
/// client's credentials and tokens travel in the form or the `Authorization` header), so any
/// origin may call and read them, never with credentials. Authorize and logout are browser
/// navigations, not calls: they stay out.
const OPEN_TO_ANY_ORIGIN: [&str; 5] = [
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/revoke",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
];

/// CORS for [`OPEN_TO_ANY_ORIGIN`]: a preflight is answered here (`*`, GET and POST, the
/// `Authorization` and `Content-Type` headers); every other answer gets
/// `Access-Control-Allow-Origin: *` and never `Access-Control-Allow-Credentials`.
async fn open_to_any_origin(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !OPEN_TO_ANY_ORIGIN.contains(&request.path()) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let response = actix_web::HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "3600"))
            .finish();
        return Ok(request.into_response(response));
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    Ok(response)
}

/// Headers every answer carries. Served over https (as the public URL says, whatever proxy
/// ends TLS in front), browsers are told to never try plain http again: two years, this host
/// only (a hosting company's other subdomains are not this server's to decide).
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https {
        DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=63072000"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ))
}

/// Caching and encoding of the built SPA, as a CDN would serve it: Vite's hashed files under
/// `assets/` never change under their name, so they are cached for a year; everything else
/// (`index.html`, which names the current hashes, and the unhashed files of `public/`) is
/// revalidated on every use. A file precompressed at build (`name.br`, `name.gz` beside it) is
/// sent as such to a client that accepts that encoding: no compression work per request, and
/// brotli at its best level, which would be too slow on the fly.
async fn static_delivery(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let static_dir = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.static_dir.clone());
    let readable = matches!(*request.method(), Method::GET | Method::HEAD);
    let file = static_dir
        .filter(|_| readable)
        .and_then(|dir| static_file(&dir, request.path()));
    let hashed = request.path().starts_with("/assets/");
    // A hashed name that is no file is an asset of an older build: a 404, never `index.html`
    // (which a cache would then keep for a year under the asset's name).
    if hashed && readable && file.is_none() {
        let (http_request, _) = request.into_parts();
        let mut response = ApiError::NotFound.error_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(ServiceResponse::new(http_request, response).map_into_boxed_body());
    }
    let mut response = match file.as_ref().and_then(|file| {
        let accepted = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        precompressed_variant(file, accepted)
    }) {
        Some((variant, encoding)) => {
            let content_type = actix_files::file_extension_to_mime(
                file.as_ref()
                    .and_then(|file| file.extension())
                    .and_then(|extension| extension.to_str())
                    .unwrap_or_default(),
            );
            let (http_request, _) = request.into_parts();
            let variant = NamedFile::open_async(&variant)
                .await?
                .set_content_type(content_type)
                .set_content_encoding(encoding)
                .disable_content_disposition();
            let response = variant.into_response(&http_request);
            ServiceResponse::new(http_request, response).map_into_boxed_body()
        }
        None => next.call(request).await?.map_into_boxed_body(),
    };
    // A 304 carries the headers of the 200 it stands for: caches update theirs from it.
    let fresh = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let cache_control = if hashed && file.is_some() && fresh {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if file
        .as_ref()
        .is_some_and(|file| has_precompressed_variants(file))
    {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    Ok(response)
}

/// The file under `static_dir` a request path names, if it is one: percent-decoded, and only
/// plain segments (no `..`, no hidden files, no backslashes), so nothing outside is reachable.
fn static_file(static_dir: &Path, path: &str) -> Option<std::path::PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut file = static_dir.to_path_buf();
    for segment in decoded.trim_start_matches('/').split('/') {
        if segment.is_empty() || segment.starts_with('.') || segment.contains(['\\', '\0']) {
            return None;
        }
        file.push(segment);
    }
    file.is_file().then_some(file)
}

/// The precompressed file to send for `file` and its encoding: brotli, else gzip, as the
/// client's `Accept-Encoding` allows (`q=0` refuses an encoding) and the build made them.
fn precompressed_variant(
    file: &Path,
    accept_encoding: &str,
) -> Option<(std::path::PathBuf, ContentEncoding)> {
    let offered: Vec<(&str, f32)> = accept_encoding
        .split(',')
        .map(|entry| {
            let mut parts = entry.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (name, q)
        })
        .collect();
    // The coding's own weight, else that of `*`, else not acceptable.
    let weight = |coding: &str| -> f32 {
        let named = offered
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(coding));
        named
            .or_else(|| offered.iter().find(|(name, _)| *name == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let (brotli, gzip) = (weight("br"), weight("gzip"));
    let mut choices = [
        (brotli, "br", ContentEncoding::Brotli),
        (gzip, "gz", ContentEncoding::Gzip),
    ];
    // Stable: on equal weights brotli, the smaller, stays first.
    choices.sort_by(|a, b| b.0.total_cmp(&a.0));
    choices
        .into_iter()
        .filter(|(weight, _, _)| *weight > 0.0)
        .map(|(_, suffix, encoding)| (with_suffix(file, suffix), encoding))
        .find(|(variant, _)| variant.is_file())
}

fn has_precompressed_variants(file: &Path) -> bool {
    ["br", "gz"]
        .into_iter()
        .any(|suffix| with_suffix(file, suffix).is_file())
}

/// `app.js` → `app.js.br`.
fn with_suffix(file: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
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
    use super::{check_settings, precompressed_variant, static_file, with_picked_port};
    use actix_web::http::header::ContentEncoding;

    #[test]
    fn the_encoding_sent_follows_accept_encoding_and_what_the_build_made() {
        let dir =
            std::env::temp_dir().join(format!("custadmin-precompressed-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        let both = dir.join("assets/app.js");
        let gzip_only = dir.join("assets/app.css");
        for file in [
            "assets/app.js",
            "assets/app.js.br",
            "assets/app.js.gz",
            "assets/app.css",
            "assets/app.css.gz",
        ] {
            std::fs::write(dir.join(file), file).unwrap();
        }
        let chosen = |file: &std::path::Path, accepted: &str| {
            precompressed_variant(file, accepted).map(|(_, encoding)| encoding)
        };
        assert_eq!(
            chosen(&both, "gzip, deflate, br, zstd"),
            Some(ContentEncoding::Brotli)
        );
        assert_eq!(chosen(&both, "gzip"), Some(ContentEncoding::Gzip));
        assert_eq!(chosen(&both, "BR"), Some(ContentEncoding::Brotli));
        assert_eq!(chosen(&both, "br;q=0, gzip"), Some(ContentEncoding::Gzip));
        assert_eq!(
            chosen(&both, "br;q=0.2, gzip;q=0.8"),
            Some(ContentEncoding::Gzip)
        );
        assert_eq!(chosen(&both, "*"), Some(ContentEncoding::Brotli));
        assert_eq!(chosen(&both, "*, br;q=0, gzip;q=0"), None);
        assert_eq!(chosen(&both, "identity"), None);
        assert_eq!(chosen(&both, ""), None);
        assert_eq!(chosen(&gzip_only, "br, gzip"), Some(ContentEncoding::Gzip));
        assert_eq!(chosen(&gzip_only, "br"), None);
        // Only plain paths to files under the folder.
        assert_eq!(static_file(&dir, "/assets/app.js"), Some(both.clone()));
        assert_eq!(static_file(&dir, "/assets/%61pp.js"), Some(both));
        for outside in [
            "/assets/../assets/app.js",
            "/assets/%2e%2e/assets/app.js",
            "/assets",
            "/assets//app.js",
            "/.env",
            "/assets/app.js\\x",
        ] {
            assert_eq!(static_file(&dir, outside), None, "{outside}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
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
