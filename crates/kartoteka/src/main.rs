//! `kartoteka`: the server and its command-line tools.

use anyhow::Context;
use clap::{Parser, Subcommand};
use kartoteka::config::{Config, Overrides};
use kartoteka::{bench, demo, duplicates_cli, startup, transfer};
use kartoteka_app::auth::system_actor;
use kartoteka_app::users::NewUser;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc for Rust's allocations (docs/decisions.md, "Allocator"); SQLite keeps glibc's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "kartoteka",
    version,
    about = "The record base of a contact center"
)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides KARTOTEKA_LISTEN).
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Data folder (overrides KARTOTEKA_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite:PATH or postgres://… (overrides KARTOTEKA_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the API (the default).
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Fill the database with realistic Polish demo records.
    Demo {
        #[arg(long, default_value_t = 1000)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Import a spreadsheet or CSV file (xlsx, xls, ods, csv) as a job, with a progress bar.
    Import(transfer::ImportArgs),
    /// Export records (all, or a filter's) to csv or xlsx.
    Export(transfer::ExportArgs),
    /// Find duplicates, merge or delete them in bulk, undo a merge.
    Duplicates {
        #[command(subcommand)]
        command: duplicates_cli::DuplicatesCommand,
    },
    /// Validate an identifier or phone number: prints {"valid", "normalized", "error"}.
    Validate {
        /// nip, pesel, regon or phone.
        kind: String,
        value: String,
        /// Region for phone numbers without a country code.
        #[arg(long)]
        region: Option<String>,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password comes from standard input, or is generated and printed.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Grants, comma-separated (record_base, delete_records, see_national_ids, ...).
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; prints the token alone as the last line.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KARTOTEKA_LOG")
                .unwrap_or_else(|_| "info,sqlx=error,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(Command::Validate {
        kind,
        value,
        region,
    }) = &cli.command
    {
        return validate(kind, value, region.as_deref());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: cli.listen,
        data_dir: cli.data_dir,
        database_url: cli.database_url,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let server = startup::Application::build(&config).await?;
            if let Some(p) = &server.admin_password {
                println!("Created the administrator `admin` with the one-time password: {p}");
                println!("Log in and change it; it is not shown again.");
            }
            println!("Kartoteka serves on http://{}", server.addr);
            server.run().await
        }
        Command::Migrate => {
            startup::open(&config).await?;
            println!("The database is up to date.");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    permissions,
                },
        } => {
            let app = startup::open(&config).await?;
            let password = read_stdin_password()?;
            let created = app
                .create_user(
                    &system_actor(),
                    NewUser {
                        username: name,
                        display_name: None,
                        email: None,
                        role,
                        permissions,
                        password,
                        locale: None,
                        time_zone: None,
                    },
                )
                .await
                .map_err(describe)?;
            println!(
                "Created user {} ({}).",
                created.user.username, created.user.role
            );
            if let Some(p) = created.password {
                println!("Generated password (shown once): {p}");
            }
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { user, name },
        } => {
            let app = startup::open(&config).await?;
            let created = app
                .create_token(&system_actor(), &user, &name)
                .await
                .map_err(describe)?;
            println!(
                "Created API token {} for {user}; it is shown once:",
                created.token.id
            );
            println!("{}", created.secret);
            Ok(())
        }
        Command::Demo { records, seed } => {
            let app = startup::open(&config).await?;
            let report = demo::fill(&app, records, seed, true).await?;
            println!("{report}");
            Ok(())
        }
        Command::Import(args) => {
            let app = startup::open(&config).await?;
            transfer::import(&app, args).await
        }
        Command::Export(args) => {
            let app = startup::open(&config).await?;
            transfer::export(&app, args).await
        }
        Command::Duplicates { command } => {
            let app = startup::open(&config).await?;
            duplicates_cli::run(&app, command).await
        }
        Command::Bench { command } => bench::run(&config, command).await,
        Command::Validate { .. } => Ok(()),
    }
}

/// The password piped on standard input (first line), or None when there is no input.
fn read_stdin_password() -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut s = String::new();
    stdin
        .lock()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let line = s
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r')
        .to_string();
    Ok(Some(line).filter(|l| !l.is_empty()))
}

fn describe(e: kartoteka_app::AppError) -> anyhow::Error {
    match e {
        kartoteka_app::AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        e => anyhow::anyhow!("{e}"),
    }
}

fn validate(kind: &str, value: &str, region: Option<&str>) -> ExitCode {
    use kartoteka_domain::national::{Nip, Pesel, Regon};
    let result: Result<String, String> = match kind {
        "nip" => Nip::parse(value)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.message),
        "pesel" => Pesel::parse(value)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.message),
        "regon" => Regon::parse(value)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.message),
        "phone" => kartoteka_domain::phone::parse_phone(value, region.unwrap_or("PL"))
            .map(|p| p.e164)
            .map_err(|e| e.message),
        other => Err(format!(
            "unknown kind `{other}`: use nip, pesel, regon or phone"
        )),
    };
    let (valid, normalized, error) = match &result {
        Ok(n) => (true, Some(n.clone()), None),
        Err(e) => (false, None, Some(e.clone())),
    };
    println!(
        "{}",
        serde_json::json!({"valid": valid, "normalized": normalized, "error": error})
    );
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
