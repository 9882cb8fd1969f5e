//! Running each command.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use haven_domain::audit::Actor;
use haven_domain::{ClinicName, Email, OrgName, PersonName, Role, Roles};
use haven_server::ops::{Context, accounts, audit_log, orgs};
use haven_server::{AppState, Clock, SystemClock};
use haven_store::Store;

use crate::cli::{
    AdminCommand, ApiKeyCommand, AuditCommand, Cli, ClinicCommand, Command, ExportFormat,
    OrgCommand, RetentionCommand, UserCommand,
};
use crate::{config, governance};

/// A command's failure: what to print and the exit status.
pub(crate) struct Failure {
    message: String,
    status: u8,
}

/// Bad configuration or usage: exit status 2.
pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        status: 2,
    }
}

/// The command ran and refused, or found a problem: exit status 1.
pub(crate) fn refused(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        status: 1,
    }
}

impl From<haven_server::Error> for Failure {
    fn from(e: haven_server::Error) -> Failure {
        refused(e.to_string())
    }
}

impl From<haven_store::Error> for Failure {
    fn from(e: haven_store::Error) -> Failure {
        refused(e.to_string())
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("haven: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let file = config::read_file(cli.config.as_deref()).map_err(usage)?;
    let url = config::database_url(cli.database_url, &file);
    match cli.command {
        Command::Serve(args) => {
            let config = config::server_config(&args, &file).map_err(usage)?;
            serve(&url, config).await
        }
        Command::Admin(cmd) => {
            // Links printed by admin commands use the same public address as the server.
            let public_url = config::public_url_for_links(&file);
            admin(&connect(&url).await?, &public_url, cmd).await
        }
        Command::Audit(cmd) => audit(&connect(&url).await?, cmd).await,
        Command::Governance(cmd) => governance::run(&connect(&url).await?, cmd).await,
    }
}

async fn connect(url: &str) -> Result<Store, Failure> {
    Store::connect(url).await.map_err(|e| usage(e.to_string()))
}

fn system() -> Context {
    Context {
        actor: Actor::System,
        client_addr: None,
        now: SystemClock.now(),
    }
}

async fn serve(url: &str, mut config: haven_server::Config) -> Result<(), Failure> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| usage(format!("listen: cannot listen on {}: {e}", config.listen)))?;
    if config.public_url.is_empty() {
        let bound = listener
            .local_addr()
            .map_err(|e| usage(format!("listen: {e}")))?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        config.public_url = format!("{scheme}://{bound}");
    }
    let store = connect(url).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if store.org_count().await? == 0 {
        let link = accounts::setup_link(&store, clock.now(), &config.public_url).await?;
        println!();
        println!("Haven is not set up yet. Open this link to create your organisation and");
        println!("its first administrator (it works once, for one hour):");
        println!();
        println!("    {link}");
        println!();
        let _ = std::io::stdout().flush();
    }
    let channel = haven_server::invites::ops::channel(&config.invites);
    tracing::info!(%channel, "invitations are sent by this channel");
    let state = AppState::new(store.clone(), config, clock);
    let result = haven_server::serve(state, listener).await;
    store.close().await;
    result.map_err(|e| refused(format!("server stopped: {e}")))
}

async fn admin(store: &Store, public_url: &str, cmd: AdminCommand) -> Result<(), Failure> {
    match cmd {
        AdminCommand::Org(OrgCommand::Create { name }) => {
            let id = orgs::create_org(store, &system(), &name).await?;
            println!("created organisation {id}");
        }
        AdminCommand::User(UserCommand::Add {
            org,
            email,
            name,
            roles,
            password_stdin: _,
        }) => {
            // Malformed options are usage errors (status 2), named by their flag, before
            // anything is looked up; `add_user` checks them again as the web form does.
            Email::parse(&email).map_err(|e| usage(format!("--email: {e}")))?;
            PersonName::parse(&name).map_err(|e| usage(format!("--name: {e}")))?;
            let org = find_org(store, &org).await?;
            let mut parsed = Roles::default();
            for r in &roles {
                parsed.insert(Role::parse(r.trim()).map_err(|e| usage(format!("--role: {e}")))?);
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| usage(format!("--password-stdin: cannot read standard input: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']);
            let new = accounts::NewStaff {
                email: &email,
                name: &name,
                roles: parsed,
                password,
                must_change_password: true,
            };
            let id = accounts::add_user(store, &system(), &org.id, &new).await?;
            // Only the id on standard output, so that a script can use it (a group
            // booking through the API names its host clinician by id).
            println!("{id}");
            eprintln!("Added. They must choose a new password at first sign-in.");
        }
        AdminCommand::User(UserCommand::ResetPassword { email }) => {
            let user = find_user(store, &email).await?;
            let link =
                accounts::issue_reset_link(store, &system(), public_url, &user.org_id, &user.id)
                    .await?;
            println!("{link}");
            eprintln!(
                "This link works once, for one hour. Give it to the user in person or by phone."
            );
        }
        AdminCommand::ApiKey(ApiKeyCommand::Create { org, name }) => {
            let org = find_org(store, &org).await?;
            let key = orgs::create_api_key(store, &system(), &org.id, &name).await?;
            println!("{key}");
            eprintln!(
                "This key is shown only now: store it in the booking system's secret store. \
                 It acts for {} through the API at {public_url}/api/v1.",
                org.name.as_str()
            );
        }
        AdminCommand::Clinic(cmd) => clinic(store, cmd).await?,
        AdminCommand::Retention(RetentionCommand::Run) => governance::retention(store).await?,
        AdminCommand::User(UserCommand::Disable { email }) => {
            let user = find_user(store, &email).await?;
            accounts::set_disabled(store, &system(), &user.org_id, &user.id, true).await?;
            println!("disabled user {}; their sessions have ended", user.id);
        }
    }
    Ok(())
}

async fn clinic(store: &Store, cmd: ClinicCommand) -> Result<(), Failure> {
    match cmd {
        ClinicCommand::Create { org, name } => {
            let parsed = ClinicName::parse(&name).map_err(|e| usage(format!("--name: {e}")))?;
            let org = find_org(store, &org).await?;
            let id = orgs::create_clinic(store, &system(), &org.id, &name)
                .await
                .map_err(|e| match e {
                    haven_server::Error::Conflict(_) => refused(format!(
                        "--name: {} already has a clinic called {:?}",
                        org.name.as_str(),
                        parsed.as_str()
                    )),
                    other => other.into(),
                })?;
            println!("{id}");
        }
        ClinicCommand::List { org } => {
            let org = find_org(store, &org).await?;
            for clinic in store.clinics(&org.id).await? {
                println!("{}\t{}", clinic.id, clinic.name.as_str());
            }
        }
    }
    Ok(())
}

/// The organisation named by `--org`: a malformed name is a usage error, an unknown one a
/// refusal.
pub(crate) async fn find_org(store: &Store, name: &str) -> Result<haven_store::orgs::Org, Failure> {
    let name = OrgName::parse(name).map_err(|e| usage(format!("--org: {e}")))?;
    store.org_by_name(&name).await?.ok_or_else(|| {
        refused(format!(
            "--org: no organisation is called {:?}",
            name.as_str()
        ))
    })
}

async fn find_user(store: &Store, email: &str) -> Result<haven_store::users::User, Failure> {
    let email = Email::parse(email).map_err(|e| usage(format!("--email: {e}")))?;
    store
        .user_by_email(&email)
        .await?
        .ok_or_else(|| refused("--email: no account has this email address"))
}

async fn audit(store: &Store, cmd: AuditCommand) -> Result<(), Failure> {
    match cmd {
        AuditCommand::Verify => match audit_log::verify(store).await? {
            Ok(n) => {
                let (_, head) = store.audit_head().await?;
                println!("ok: {n} entries");
                println!("head: {head}");
                let (removed, _) = store.audit_checkpoint().await?;
                if removed > 0 {
                    println!("entries 1 to {removed} were removed by retention (checkpoint)");
                }
                Ok(())
            }
            Err(broken) => {
                println!("broken: {broken}");
                Err(refused("the audit log has been tampered with"))
            }
        },
        AuditCommand::Export { format } => {
            let format = match format {
                ExportFormat::Csv => audit_log::Format::Csv,
                ExportFormat::Json => audit_log::Format::Json,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            audit_log::export(store, format, &mut out).await?;
            out.flush()
                .map_err(|e| refused(format!("cannot write the export: {e}")))?;
            Ok(())
        }
    }
}
