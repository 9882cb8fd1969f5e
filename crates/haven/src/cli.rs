//! The command line. Every option of `serve` can also come from the environment
//! (`HAVEN_*`) or the configuration file; a flag wins over the environment, which wins over
//! the file, which wins over the default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Haven: secure video consultations for health and care.
#[derive(Parser, Debug)]
#[command(name = "haven", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Keys are the long option names with `_` for `-`,
    /// e.g. `listen = "0.0.0.0:8080"`.
    #[arg(long, global = true, env = "HAVEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database: `sqlite:PATH` (default `sqlite://haven-data/haven.db`) or
    /// `postgres://USER:PASSWORD@HOST/DB`.
    // hide_env_values: the URL may hold a password, which `--help` must not print.
    #[arg(
        long,
        global = true,
        env = "HAVEN_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the Haven service.
    // Boxed: its options outweigh every other command's many times over.
    Serve(Box<ServeArgs>),
    /// Manage organisations and staff accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check or export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The governance report and the counts for national data collections.
    #[command(subcommand)]
    Governance(GovernanceCommand),
}

/// Options of `haven serve`.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HAVEN_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// The address people use to reach Haven, used in links (e.g. https://video.example.nhs.uk)
    /// [default: http:// and the listen address].
    #[arg(long, env = "HAVEN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// PEM certificate chain: serve HTTPS directly (needs --tls-key).
    #[arg(long, env = "HAVEN_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "HAVEN_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Reverse proxies whose X-Forwarded-For/-Proto headers are trusted: addresses or CIDR
    /// ranges, comma-separated [default: none].
    #[arg(
        long,
        env = "HAVEN_TRUSTED_PROXIES",
        value_name = "LIST",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,

    /// Minutes of inactivity after which a staff session ends [default: 30].
    #[arg(long, env = "HAVEN_SESSION_IDLE_MINUTES", value_name = "MINUTES")]
    pub session_idle_minutes: Option<u32>,

    /// Hours after sign-in after which a staff session ends however active [default: 12].
    #[arg(long, env = "HAVEN_SESSION_ABSOLUTE_HOURS", value_name = "HOURS")]
    pub session_absolute_hours: Option<u32>,

    /// Port for live media, UDP and ICE-TCP alike (open both in the firewall); 0 picks a
    /// free one [default: 10000].
    #[arg(long, env = "HAVEN_MEDIA_PORT", value_name = "PORT")]
    pub media_port: Option<u16>,

    /// IP addresses browsers reach the media port at (the public address behind NAT),
    /// comma-separated [default: the listen address's IP; required when listening on
    /// 0.0.0.0 or ::].
    #[arg(
        long,
        env = "HAVEN_MEDIA_PUBLIC_IP",
        value_name = "LIST",
        value_delimiter = ','
    )]
    pub media_public_ip: Option<Vec<String>>,

    /// TURN relay URLs handed to browsers (e.g. turn:turn.example.org:3478?transport=udp,
    /// turns:turn.example.org:5349), comma-separated [default: none].
    #[arg(
        long,
        env = "HAVEN_TURN_URL",
        value_name = "LIST",
        value_delimiter = ','
    )]
    pub turn_url: Option<Vec<String>>,

    /// The secret shared with coturn (its static-auth-secret): browsers get time-limited
    /// TURN credentials made from it [default: none].
    // hide_env_values: `--help` must not print the secret.
    #[arg(
        long,
        env = "HAVEN_TURN_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub turn_secret: Option<String>,

    /// Seconds a participant whose connection dropped keeps their place in a call
    /// [default: 30].
    #[arg(long, env = "HAVEN_RECONNECT_GRACE_SECONDS", value_name = "SECONDS")]
    pub reconnect_grace_seconds: Option<u32>,

    /// How invitations are sent: console (print each link, for local use), notify (GOV.UK
    /// Notify text messages and emails) or smtp (email only) [default: console].
    #[arg(long, env = "HAVEN_INVITE_CHANNEL", value_name = "CHANNEL")]
    pub invite_channel: Option<String>,

    /// GOV.UK Notify API key (for --invite-channel notify).
    // hide_env_values: `--help` must not print the key.
    #[arg(
        long,
        env = "HAVEN_NOTIFY_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub notify_api_key: Option<String>,

    /// GOV.UK Notify's address [default: https://api.notifications.service.gov.uk].
    #[arg(long, env = "HAVEN_NOTIFY_BASE_URL", value_name = "URL")]
    pub notify_base_url: Option<String>,

    /// The Notify text message template's id; it may use ((first_name)), ((clinic)),
    /// ((when)) and ((link)).
    #[arg(long, env = "HAVEN_NOTIFY_SMS_TEMPLATE", value_name = "ID")]
    pub notify_sms_template: Option<String>,

    /// The Notify email template's id, with the same placeholders.
    #[arg(long, env = "HAVEN_NOTIFY_EMAIL_TEMPLATE", value_name = "ID")]
    pub notify_email_template: Option<String>,

    /// The Notify text message template for one-time codes, where an organisation's
    /// identity check asks for one; it may use ((code)), ((clinic)) and ((organisation)).
    #[arg(long, env = "HAVEN_NOTIFY_CODE_TEMPLATE", value_name = "ID")]
    pub notify_code_template: Option<String>,

    /// The bearer token Notify sends with delivery receipts to /callbacks/notify (set the
    /// same in Notify's callback settings) [default: none; statuses stop at "sent"].
    #[arg(
        long,
        env = "HAVEN_NOTIFY_CALLBACK_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub notify_callback_token: Option<String>,

    /// SMTP server for --invite-channel smtp: smtp://HOST:PORT, or
    /// smtps://USER:PASSWORD@HOST for TLS with a password.
    // hide_env_values: the URL may hold a password.
    #[arg(
        long,
        env = "HAVEN_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<String>,

    /// The sender of invitation emails, e.g. "Riverside Health <noreply@example.org>".
    #[arg(long, env = "HAVEN_SMTP_FROM", value_name = "ADDRESS")]
    pub smtp_from: Option<String>,

    /// The record system's FHIR endpoint: each patient's bundle is posted there when the
    /// clinician finishes the notes [default: none; bundles are offered for download].
    #[arg(long, env = "HAVEN_FHIR_ENDPOINT", value_name = "URL")]
    pub fhir_endpoint: Option<String>,

    /// A file holding the bearer token for the FHIR endpoint (or set HAVEN_FHIR_TOKEN).
    #[arg(long, env = "HAVEN_FHIR_TOKEN_FILE", value_name = "PATH")]
    pub fhir_token_file: Option<std::path::PathBuf>,
}

/// `haven admin …`
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys for booking and GP systems.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Clinics (services whose clinicians share a waiting area).
    #[command(subcommand)]
    Clinic(ClinicCommand),
    /// Removing data older than each organisation's retention periods.
    #[command(subcommand)]
    Retention(RetentionCommand),
}

/// `haven admin retention …`
#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Run the daily retention job now: prints what kind of data was removed, how much, and
    /// older than when.
    Run,
}

/// `haven governance …`
#[derive(Subcommand, Debug)]
pub enum GovernanceCommand {
    /// Each point of the guidance on video consultations: enforced, supported or off, with
    /// the evidence from the organisation's configuration and data.
    Report {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The month to count, YYYY-MM (default: the current month in the UK).
        #[arg(long)]
        month: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Video consultations held, by organisation and month, as CSV on standard output
    /// (no patient identifiers, no free text).
    Counts {
        /// The first month, YYYY-MM.
        #[arg(long)]
        from: String,
        /// The last month, YYYY-MM.
        #[arg(long)]
        to: String,
    },
}

/// `haven admin clinic …`
#[derive(Subcommand, Debug)]
pub enum ClinicCommand {
    /// Create a clinic in an organisation; prints its id (for the booking API's `clinic_id`).
    Create {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The clinic's name, unique in the organisation (e.g. "Physiotherapy").
        #[arg(long)]
        name: String,
    },
    /// List an organisation's clinics: one line each, the id, a tab, and the name.
    List {
        /// The organisation's name.
        #[arg(long)]
        org: String,
    },
}

/// `haven admin api-key …`
#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Make a key for the booking API; it is printed once and only its hash is kept.
    Create {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// A label for the key, unique in the organisation (e.g. "GP booking system").
        #[arg(long)]
        name: String,
    },
}

/// `haven admin org …`
#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
    },
}

/// `haven admin user …`
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff account and print its id; the password is read from standard input and
    /// must be changed at first sign-in.
    Add {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The sign-in email address.
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Role: admin, clinician, receptionist or ig_auditor (repeat or comma-separate).
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// Read the initial password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Print a single-use password reset link (valid for one hour).
    ResetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
}

/// `haven audit …`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain: prints `ok: N entries` (exit 0) or the first broken entry (exit 1).
    Verify,
    /// Write the whole log to standard output.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
}

/// Export formats.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    /// Comma-separated values.
    Csv,
    /// A JSON array.
    Json,
}
