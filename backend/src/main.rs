//! The `custadmin` binary: `serve`, `account create`, `openapi`.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

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
    /// Print the OpenAPI document (YAML), as committed in openapi.yaml.
    Openapi,
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
        match cli.command {
            Command::Serve => serve(settings).await,
            Command::Account {
                command:
                    AccountCommand::Create {
                        username,
                        email,
                        role,
                    },
            } => create(settings, &username, email.as_deref(), role).await,
            Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
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
