//! The `custadmin` binary: `serve`, `account create`, `keys`, `oidc-client`, `backup`,
//! `restore`, `openapi`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};

use custadmin::config::Settings;
use custadmin::domain::clock::SystemClock;
use custadmin::domain::{Email, Password, Role, Username};
use custadmin::service::registration::{create_account, NewAccountRequest};
use custadmin::startup::{build_state, check_settings, Application};
use custadmin::telemetry::LogOutput;

#[derive(Parser)]
#[command(
    name = "custadmin",
    version,
    about = "Customer administration with two-factor login"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API and the SPA.
    Serve,
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Rotate, retire and list the keys (run while the servers serve).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Register and manage the OpenID Connect clients (relying parties); prints JSON.
    OidcClient {
        #[command(subcommand)]
        command: OidcClientCommand,
    },
    /// Copy the SQLite database consistently (servers may run and write) to a new file, and
    /// the key files to FILE.keys/.
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Leave the key files out (keep them elsewhere: without them the backup's TOTP
        /// secrets cannot be opened).
        #[arg(long)]
        without_keys: bool,
    },
    /// Restore a backup (and FILE.keys/ if there) into an empty data folder.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Print the OpenAPI document (YAML), as committed in openapi.yaml.
    Openapi,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Each key's id, age and what it still protects.
    Status,
    /// Make a new secret-encryption key current and seal every stored secret anew with it
    /// (or finish a rotation that was interrupted).
    RotateEncryption {
        /// Do not wait for running servers to read the new key first (only when none runs).
        #[arg(long)]
        no_wait: bool,
    },
    /// Drop the encryption keys that are not current; refused while anything needs them.
    RetireEncryption,
    /// Make a new JWT signing key and a new OpenID Connect RSA key current; the old ones
    /// still verify until retired.
    RotateSigning,
    /// Drop the signing keys (both kinds) that are not current (after the access-token
    /// lifetime).
    RetireSigning {
        /// Now, even if tokens they signed are still live (a leaked key).
        #[arg(long)]
        immediately: bool,
    },
}

#[derive(Subcommand)]
enum OidcClientCommand {
    /// Register a client; prints it with its secret (shown only now) unless `--public`.
    Create {
        /// What customers see on the consent screen and in "Apps with access".
        #[arg(long)]
        name: String,
        /// Where codes are sent, matched exactly: https, http to a loopback host, or (with
        /// `--public`) a private-use scheme like `com.example.app:/cb`. Repeat for more.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// A native or browser app without a secret (PKCE alone).
        #[arg(long)]
        public: bool,
        /// Every sign-in for this client needs a second factor.
        #[arg(long)]
        require_two_factor: bool,
        /// Offer customers without a second factor to set one up (rather than refusing).
        #[arg(long)]
        offer_two_factor_setup: bool,
        /// Where RP-initiated logout may return to. Repeat for more.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// How ID tokens are signed: RS256 (the default) or EdDSA.
        #[arg(long = "id-token-alg", value_name = "ALG", default_value = "RS256")]
        id_token_alg: String,
    },
    /// Every client (no secrets: they are kept only as hashes).
    List,
    /// Delete a client with its consents, grants, codes and pending requests.
    Delete { client_id: String },
    /// Give a confidential client a new secret (printed); the old one stops working at once.
    RotateSecret { client_id: String },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "customer")]
        role: Role,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return match custadmin::openapi::document_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        };
    }
    let settings = match Settings::load().and_then(|settings| {
        check_settings(&settings)?;
        Ok(settings)
    }) {
        Ok(settings) => settings,
        Err(error) => return fail(&format!("configuration error: {error}")),
    };
    let log_output = match cli.command {
        Command::Serve => LogOutput::Stdout,
        _ => LogOutput::Stderr,
    };
    custadmin::telemetry::init(&settings.log_filter, settings.log_format, log_output);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    let result = runtime.block_on(async move {
        let fault = Failure::Fault;
        match cli.command {
            Command::Serve => serve(settings).await.map_err(fault),
            Command::Account {
                command:
                    AccountCommand::Create {
                        username,
                        email,
                        role,
                    },
            } => create(settings, &username, email.as_deref(), role)
                .await
                .map_err(fault),
            Command::Keys { command } => keys(settings, command).await.map_err(fault),
            Command::OidcClient { command } => oidc_client(settings, command).await,
            Command::Backup { to, without_keys } => {
                backup(&settings, &to, !without_keys).map_err(fault)
            }
            Command::Restore { from } => restore(&settings, &from).map_err(fault),
            Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Fault(message)) => fail(&message),
        Err(Failure::BadInput(message)) => {
            eprintln!("custadmin: {message}");
            ExitCode::from(2)
        }
    }
}

/// Why a command did not do what was asked: the operator's input (exit code 2, as for a bad
/// argument), or anything else (1).
enum Failure {
    BadInput(String),
    Fault(String),
}

fn fail(message: &str) -> ExitCode {
    eprintln!("custadmin: {message}");
    ExitCode::FAILURE
}

async fn serve(settings: Settings) -> Result<(), String> {
    let application = Application::build(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    match application.metrics_port() {
        Some(metrics_port) => tracing::info!(
            port = application.port(),
            metrics_port,
            "custadmin is serving"
        ),
        None => tracing::info!(port = application.port(), "custadmin is serving"),
    }
    // Every instance reads the key files again, so a key rotated by `custadmin keys` reaches
    // it without a restart.
    tokio::spawn(application.state().key_reloader.clone().run_periodically());
    // Every instance prunes; the deletes are idempotent, so instances may overlap.
    tokio::spawn(custadmin::service::housekeeping::run_periodically(
        application.state().clone(),
    ));
    // Every instance delivers mail; leases keep two from sending the same one.
    let mailer = custadmin::mail::Mailer::from_settings(&application.state().settings)?;
    tokio::spawn(custadmin::service::outbox::run_periodically(
        application.state().clone(),
        mailer,
    ));
    application
        .run_until_stopped()
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!("custadmin stopped");
    Ok(())
}

async fn create(
    settings: Settings,
    username: &str,
    email: Option<&str>,
    role: Role,
) -> Result<(), String> {
    let username = Username::parse(username).map_err(|error| error.to_string())?;
    let email = email
        .map(Email::parse)
        .transpose()
        .map_err(|error| error.to_string())?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|error| format!("cannot read the password from standard input: {error}"))?;
    // One trailing newline is how `echo` and here-strings end; it is not part of the password.
    let password = input.strip_suffix('\n').unwrap_or(&input);
    let password = password.strip_suffix('\r').unwrap_or(password).to_string();
    let password = Password::parse_new(password, "password").map_err(|error| error.to_string())?;
    let state = build_state(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    let created = create_account(
        &state,
        NewAccountRequest {
            username,
            password,
            email,
            role,
        },
    )
    .await
    .map_err(|error| error.to_string())?;
    println!(
        "{}",
        serde_json::json!({"id": created.id, "username": created.username, "role": role.as_str()})
    );
    Ok(())
}

/// The client as `oidc-client` prints it; `secret` only when just made.
fn client_json(
    client: &custadmin::domain::OidcClient,
    secret: Option<&custadmin::service::oidc_clients::ClientSecret>,
) -> serde_json::Value {
    let mut json = serde_json::json!({
        "client_id": client.id,
        "name": client.name,
        "public": client.is_public,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "require_two_factor": client.require_two_factor,
        "offer_two_factor_setup": client.offer_two_factor_setup,
        "id_token_signed_response_alg": client.id_token_algorithm.as_str(),
        "created_at": client.created_at.to_rfc3339(),
    });
    if let Some(secret) = secret {
        json["client_secret"] = secret.0.clone().into();
    }
    json
}

async fn oidc_client(settings: Settings, command: OidcClientCommand) -> Result<(), Failure> {
    use custadmin::service::error::{Refusal, ServiceError};
    use custadmin::service::oidc_clients;
    let state = build_state(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| Failure::Fault(error.to_string()))?;
    let failure = |client_id: Option<&str>| {
        let client_id = client_id.map(str::to_string);
        move |error: ServiceError| match (error, client_id) {
            (ServiceError::Invalid(invalid), _) => Failure::BadInput(invalid.to_string()),
            (ServiceError::Refused(Refusal::NotFound), Some(id)) => {
                Failure::BadInput(format!("there is no OpenID Connect client {id:?}"))
            }
            (other, _) => Failure::Fault(other.to_string()),
        }
    };
    let printed = match command {
        OidcClientCommand::Create {
            name,
            redirect_uris,
            public,
            require_two_factor,
            offer_two_factor_setup,
            post_logout_redirect_uris,
            id_token_alg,
        } => {
            let registration = oidc_clients::OidcClientRegistration {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                is_public: public,
                require_two_factor,
                offer_two_factor_setup,
                id_token_algorithm: id_token_alg,
            };
            let created = oidc_clients::create(&state, registration)
                .await
                .map_err(failure(None))?;
            client_json(&created.client, created.secret.as_ref())
        }
        OidcClientCommand::List => {
            let clients = oidc_clients::list(&state).await.map_err(failure(None))?;
            clients
                .iter()
                .map(|client| client_json(client, None))
                .collect()
        }
        OidcClientCommand::Delete { client_id } => {
            oidc_clients::delete(&state, &client_id)
                .await
                .map_err(failure(Some(&client_id)))?;
            serde_json::json!({"client_id": client_id, "deleted": true})
        }
        OidcClientCommand::RotateSecret { client_id } => {
            let secret = oidc_clients::rotate_secret(&state, &client_id)
                .await
                .map_err(failure(Some(&client_id)))?;
            serde_json::json!({"client_id": client_id, "client_secret": secret.0})
        }
    };
    println!("{printed}");
    Ok(())
}

/// `3d 4h`, `12m 5s`: a key's age.
fn age(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {}s", secs / 60, secs % 60),
        3600..=86_399 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

async fn keys(settings: Settings, command: KeysCommand) -> Result<(), String> {
    use custadmin::service::keys as key_use;
    let state = build_state(settings, Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    let text = |error: key_use::KeyCommandError| error.to_string();
    match command {
        KeysCommand::Status => {
            let status = key_use::status(&state, SystemTime::now())
                .await
                .map_err(text)?;
            print_status(&status);
        }
        KeysCommand::RotateEncryption { no_wait } => {
            let label = custadmin::auth::secret_box::key_label;
            match key_use::start_encryption_rotation(&state)
                .await
                .map_err(text)?
            {
                key_use::RotationStart::NewKey(id) => {
                    println!("made {} the current encryption key", label(id));
                    if !no_wait {
                        // Until every server reads the folder, some still seal with the old
                        // key; sealing anew after that leaves nothing behind.
                        let wait =
                            custadmin::auth::keys::KEY_RELOAD_INTERVAL + Duration::from_secs(2);
                        println!(
                            "waiting {} s for the running servers to read it",
                            wait.as_secs()
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
                key_use::RotationStart::Unfinished(id) => println!(
                    "finishing the rotation to {}: values are still sealed under older keys",
                    label(id)
                ),
            }
            let report = key_use::reseal_all(&state, key_use::RESEAL_BATCH_SIZE, |_, report| {
                eprintln!("sealed anew so far: {}", report.resealed);
                true
            })
            .await
            .map_err(text)?;
            println!(
                "sealed anew: {} ({} changed meanwhile, {} batches)",
                report.resealed, report.changed_meanwhile, report.batches
            );
            for problem in &report.unreadable {
                println!("does not open: {problem}");
            }
            let status = key_use::status(&state, SystemTime::now())
                .await
                .map_err(text)?;
            let mut still_used = false;
            for key in status.encryption.iter().filter(|key| !key.current) {
                let sealed = key.uses.sealed_total();
                if sealed > 0 {
                    still_used = true;
                    println!(
                        "{} still protects {sealed} values: run `custadmin keys rotate-encryption` again",
                        label(key.id)
                    );
                } else {
                    println!(
                        "nothing sealed uses {} any more (recovery codes it hashed: {}); \
                         `custadmin keys retire-encryption` drops it {} s after the rotation",
                        label(key.id),
                        key.uses.recovery_codes,
                        key_use::encryption_retirement_wait().as_secs()
                    );
                }
            }
            if still_used || !report.unreadable.is_empty() {
                return Err("the rotation is not finished".into());
            }
        }
        KeysCommand::RetireEncryption => {
            let report = key_use::retire_encryption(&state, SystemTime::now())
                .await
                .map_err(text)?;
            print_retirement(&report);
        }
        KeysCommand::RotateSigning => {
            let rotation = key_use::rotate_signing(&state).await.map_err(text)?;
            let ((number, kid), (rsa_number, rsa_kid)) = (rotation.ed25519, rotation.rsa);
            println!(
                "made signing key {number} (kid {kid}) and OpenID Connect RSA key {rsa_number} \
                 (kid {rsa_kid}) current; running servers sign with them within {} s; \
                 `custadmin keys retire-signing` drops the old ones after {} s",
                custadmin::auth::keys::KEY_RELOAD_INTERVAL.as_secs(),
                key_use::signing_retirement_wait().as_secs()
            );
        }
        KeysCommand::RetireSigning { immediately } => {
            let report = key_use::retire_signing(&state, SystemTime::now(), immediately)
                .await
                .map_err(text)?;
            print_retirement(&report);
        }
    }
    Ok(())
}

fn print_status(status: &custadmin::service::keys::KeyStatus) {
    use custadmin::auth::secret_box::key_label;
    println!("keys folder: {}", status.folder.display());
    println!("encryption keys:");
    for key in &status.encryption {
        let role = match (key.current, key.hashing_only) {
            (true, _) => "current",
            (false, true) => "hashing part only",
            (false, false) => "retired, still readable",
        };
        let mut protects: Vec<String> = key
            .uses
            .sealed
            .iter()
            .map(|(column, count)| format!("{count} {}", column.describe()))
            .collect();
        protects.push(format!("{} unused recovery codes", key.uses.recovery_codes));
        println!(
            "  {} {role}, age {}, {}{}\n    protects: {}",
            key_label(key.id),
            age(key.age),
            key.path.display(),
            if key.configured {
                " (from a setting)"
            } else {
                ""
            },
            protects.join(", ")
        );
    }
    println!("signing keys:");
    print_signing_keys(&status.signing);
    println!("OpenID Connect RSA signing keys (RS256):");
    print_signing_keys(&status.rsa_signing);
}

fn print_signing_keys(keys: &[custadmin::service::keys::SigningKeyStatus]) {
    for key in keys {
        let role = if key.current {
            "current"
        } else {
            "verifies only"
        };
        println!(
            "  kid {} {role}, age {}, {}{}",
            key.kid,
            age(key.age),
            key.path.display(),
            if key.configured {
                " (from a setting)"
            } else {
                ""
            },
        );
    }
}

fn print_retirement(report: &custadmin::service::keys::RetirementReport) {
    if report.dropped.is_empty()
        && report.hashing_parts_kept.is_empty()
        && report.configured_files.is_empty()
    {
        println!("no key to retire: only the current keys are left");
    }
    for dropped in &report.dropped {
        println!("dropped {dropped}");
    }
    for (key, codes) in &report.hashing_parts_kept {
        println!(
            "kept the hashing part of {key} for {codes} unused recovery codes (it opens nothing; \
             retire again once they are used or replaced)"
        );
    }
    for path in &report.configured_files {
        println!(
            "{} is named by a setting: remove the setting on every instance and delete the file",
            path.display()
        );
    }
}

fn backup(settings: &Settings, to: &std::path::Path, with_keys: bool) -> Result<(), String> {
    let report =
        custadmin::backup::backup(settings, to, with_keys).map_err(|error| error.to_string())?;
    println!(
        "backed up the database ({} accounts) to {}",
        report.accounts,
        report.file.display()
    );
    match &report.keys_folder {
        Some(folder) => println!(
            "copied the key files to {}: store them apart from the database copy (together \
             they open every TOTP secret)",
            folder.display()
        ),
        None => println!(
            "the key files were left out: back them up separately, or the TOTP secrets and \
             recovery codes of this backup are lost"
        ),
    }
    for path in &report.keys_left_out {
        println!(
            "not copied (named by CUSTADMIN_JWT_RETIRED_KEY_FILES): {}",
            path.display()
        );
    }
    Ok(())
}

fn restore(settings: &Settings, from: &std::path::Path) -> Result<(), String> {
    let report = custadmin::backup::restore(settings, from).map_err(|error| error.to_string())?;
    println!(
        "restored the database ({} accounts) to {}",
        report.accounts,
        report.database.display()
    );
    if report.keys_restored.is_empty() {
        println!(
            "no key files beside the backup ({}): put the keys in place (or name them in the \
             settings) before starting the server, or it makes new ones and cannot open the \
             TOTP secrets",
            custadmin::backup::keys_folder_of(from).display()
        );
    }
    for path in &report.keys_restored {
        println!("restored key file {}", path.display());
    }
    Ok(())
}
