//! The admin commands: probes, connections, users, API tokens, measurement maintenance.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, SaltString};
use clap::{Args, Subcommand};
use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_adapters::parse;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::id::{ApiTokenId, ConnectionId, ProbeId, UserId};
use netpulse_ports::clock::SystemClock;
use netpulse_ports::storage::{ApiToken, User};
use serde_json::{Value, json};

use super::{CliError, Output};
use crate::error::AppError;
use crate::http::dto::{ConnectionDto, ProbeDto};
use crate::service::connections::ConnectionInput;
use crate::service::{App, connections, new_uuid, probes};
use crate::tokens;

/// Opens (and migrates) the database.
pub async fn open_app(url: &str) -> Result<App, CliError> {
    let storage = netpulse_adapters::storage::open(url)
        .await
        .map_err(|e| CliError {
            status: 1,
            message: format!(
                "cannot open database {}: {e}",
                netpulse_adapters::storage::redact(url)
            ),
        })?;
    Ok(App {
        storage,
        clock: Arc::new(SystemClock),
        calendar: CronerCalendar,
        poll_interval_seconds: 60,
        default_alerts: AlertPolicy::default(),
        listeners: vec![],
        notifications: None,
        metrics: None,
    })
}

/// An app over a private in-memory database (for printing the OpenAPI document).
pub async fn offline_app() -> Result<App, CliError> {
    open_app("sqlite::memory:").await
}

/// Prints `value` as JSON, or `text()` for people.
pub fn print(out: &Output, value: &Value, text: impl FnOnce() -> String) {
    if out.json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

fn json_of<T: poem_openapi::types::ToJSON>(v: &T) -> Value {
    v.to_json().unwrap_or(Value::Null)
}

fn parse_probe(text: &str) -> Result<ProbeId, CliError> {
    ProbeId::parse(text).map_err(|e| CliError::usage("ID", e))
}

fn parse_connection(text: &str) -> Result<ConnectionId, CliError> {
    ConnectionId::parse(text).map_err(|e| CliError::usage("ID", e))
}

/// `probe …`
#[derive(Debug, Subcommand)]
pub enum ProbeCommand {
    /// Create a probe; prints its id and its token (shown once).
    Create {
        /// The probe's name.
        name: String,
        /// A label `key=value` (repeatable; `site` is exported with metrics).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
    },
    /// List probes.
    List,
    /// Replace a probe's token (the old one stops working at once); prints the new token.
    RotateToken {
        /// The probe id.
        id: String,
    },
    /// Allow a probe to poll and push.
    Enable {
        /// The probe id.
        id: String,
    },
    /// Refuse a probe's polls and pushes (403).
    Disable {
        /// The probe id.
        id: String,
    },
    /// Delete a probe (refused while it has connections).
    Delete {
        /// The probe id.
        id: String,
    },
}

/// Runs a probe command.
pub async fn probe(url: &str, out: &Output, cmd: ProbeCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        ProbeCommand::Create { name, labels } => {
            let labels = probes::labels_from_pairs(&labels)?;
            let issued = probes::create(&app, &name, labels).await?;
            print(
                out,
                &json!({ "id": issued.probe.id.as_str(), "token": issued.token, "probe": json_of(&ProbeDto::from(&issued.probe)) }),
                || {
                    format!(
                        "probe {} created\nid:    {}\ntoken: {}\n(the token is shown only now; store it for the agent as PROBE_TOKEN)",
                        issued.probe.name, issued.probe.id, issued.token
                    )
                },
            );
        }
        ProbeCommand::List => {
            let list = probes::list(&app).await?;
            let items: Vec<Value> = list.iter().map(|p| json_of(&ProbeDto::from(p))).collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<8}  {:<25}  NAME", "ID", "ENABLED", "LAST POLL");
                for p in &list {
                    let poll = p.last_poll_at.map_or_else(
                        || "never".to_owned(),
                        netpulse_domain::Timestamp::to_rfc3339,
                    );
                    s.push_str(&format!(
                        "\n{:<36}  {:<8}  {:<25}  {}",
                        p.id, p.enabled, poll, p.name
                    ));
                }
                s
            });
        }
        ProbeCommand::RotateToken { id } => {
            let id = parse_probe(&id)?;
            let token = probes::rotate_token(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "token": token }), || {
                format!("new token for probe {id}:\n{token}\n(the old token no longer works)")
            });
        }
        ProbeCommand::Enable { id } => set_probe(&app, out, &id, true).await?,
        ProbeCommand::Disable { id } => set_probe(&app, out, &id, false).await?,
        ProbeCommand::Delete { id } => {
            let id = parse_probe(&id)?;
            probes::delete(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "deleted": true }), || {
                format!("probe {id} deleted")
            });
        }
    }
    Ok(())
}

async fn set_probe(app: &App, out: &Output, id: &str, enabled: bool) -> Result<(), CliError> {
    let id = parse_probe(id)?;
    probes::set_enabled(app, &id, enabled).await?;
    print(
        out,
        &json!({ "id": id.as_str(), "enabled": enabled }),
        || {
            format!(
                "probe {id} {}",
                if enabled { "enabled" } else { "disabled" }
            )
        },
    );
    Ok(())
}

/// A cap flag's value: a number, or `none` to disable the check.
#[derive(Debug, Clone, Copy)]
pub struct CapArg(pub Option<f64>);

fn cap(text: &str) -> Result<CapArg, String> {
    if text.eq_ignore_ascii_case("none") {
        Ok(CapArg(None))
    } else {
        text.parse::<f64>()
            .map(|v| CapArg(Some(v)))
            .map_err(|_| format!("expected a number or `none`, got {text:?}"))
    }
}

/// Connection settings as flags.
#[derive(Debug, Args, Default)]
pub struct ConnectionFlags {
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// The ISP as you call it.
    #[arg(long)]
    pub isp: Option<String>,
    /// Plan download speed, whole Mbps (0 = unknown plan: no ratio check).
    #[arg(long)]
    pub download_mbps: Option<u64>,
    /// Plan upload speed, whole Mbps.
    #[arg(long)]
    pub upload_mbps: Option<u64>,
    /// Accent colour: primary, violet, amber, teal, rose, slate.
    #[arg(long)]
    pub colour: Option<String>,
    /// A label `key=value` (repeatable; replaces all labels).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A server pool entry (repeatable, in rotation order): `12345`, `ookla:12345`,
    /// `ookla:host:port`, `iperf3://host[:port]?…`, `http(s)://…`.
    #[arg(long = "server-pool", value_name = "ENTRY")]
    pub server_pool: Vec<String>,
    /// Remove every server pool entry (the engine chooses its own server).
    #[arg(long, conflicts_with = "server_pool")]
    pub clear_server_pool: bool,
    /// Schedule mode: even or cron.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Even schedule: tests per day (1–1440, default 24).
    #[arg(long)]
    pub tests_per_day: Option<u32>,
    /// Even schedule: largest jitter, seconds (default 120).
    #[arg(long = "jitter")]
    pub jitter_seconds: Option<u32>,
    /// Cron schedule: a 5-field expression (repeatable; commas inside are fine).
    #[arg(long = "cron", value_name = "EXPR")]
    pub cron: Vec<String>,
    /// Cron schedule: IANA time zone (default UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Minimum download as a fraction of the plan, (0, 1] (default 0.7).
    #[arg(long)]
    pub min_download_ratio: Option<f64>,
    /// Minimum upload as a fraction of the plan, (0, 1] (default 0.7).
    #[arg(long)]
    pub min_upload_ratio: Option<f64>,
    /// Ping cap in ms, or `none` (default 100).
    #[arg(long, value_parser = cap)]
    pub max_ping_ms: Option<CapArg>,
    /// Jitter cap in ms, or `none` (default 50).
    #[arg(long, value_parser = cap)]
    pub max_jitter_ms: Option<CapArg>,
    /// Packet-loss cap in percent, or `none` (default 5).
    #[arg(long, value_parser = cap)]
    pub max_packet_loss_percent: Option<CapArg>,
    /// Retest interval while degraded, seconds (default 300).
    #[arg(long)]
    pub adaptive_interval_seconds: Option<u32>,
    /// Healthy results that end degradation (default 3).
    #[arg(long)]
    pub recovery_healthy_count: Option<u32>,
    /// Consecutive failures after which adaptive retesting backs off (default 5).
    #[arg(long)]
    pub max_consecutive_failures: Option<u32>,
    /// Own alert threshold: consecutive unhealthy results (default: the global setting).
    #[arg(long)]
    pub alert_after: Option<u32>,
    /// Own recovery threshold: consecutive healthy results.
    #[arg(long)]
    pub recover_after: Option<u32>,
    /// Network interface tests leave through (multi-WAN on one box).
    #[arg(long)]
    pub source_interface: Option<String>,
    /// Source address tests bind to.
    #[arg(long)]
    pub source_address: Option<String>,
}

impl ConnectionFlags {
    fn input(self) -> ConnectionInput {
        ConnectionInput {
            name: self.name,
            isp: self.isp,
            download_mbps: self.download_mbps,
            upload_mbps: self.upload_mbps,
            colour: self.colour,
            labels: (!self.labels.is_empty()).then_some(self.labels),
            server_pool: if self.clear_server_pool {
                Some(vec![])
            } else {
                (!self.server_pool.is_empty()).then_some(self.server_pool)
            },
            schedule: self.schedule,
            tests_per_day: self.tests_per_day,
            jitter_seconds: self.jitter_seconds,
            cron: (!self.cron.is_empty()).then_some(self.cron),
            timezone: self.timezone,
            min_download_ratio: self.min_download_ratio,
            min_upload_ratio: self.min_upload_ratio,
            max_ping_ms: self.max_ping_ms.map(|c| c.0),
            max_jitter_ms: self.max_jitter_ms.map(|c| c.0),
            max_packet_loss_percent: self.max_packet_loss_percent.map(|c| c.0),
            adaptive_interval_seconds: self.adaptive_interval_seconds,
            recovery_healthy_count: self.recovery_healthy_count,
            max_consecutive_failures: self.max_consecutive_failures,
            alert_after: self.alert_after.map(Some),
            recover_after: self.recover_after.map(Some),
            source_interface: self.source_interface.map(Some),
            source_address: self.source_address.map(Some),
            enabled: None,
        }
    }
}

/// `connection …`
#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection for a probe.
    Create {
        /// The owning probe's id.
        #[arg(long)]
        probe: String,
        /// Settings.
        #[command(flatten)]
        flags: ConnectionFlags,
    },
    /// List connections.
    List {
        /// Only this probe's.
        #[arg(long)]
        probe: Option<String>,
    },
    /// Show every setting of a connection.
    Show {
        /// The connection id.
        id: String,
    },
    /// Change settings (flags not given keep their value).
    Update {
        /// The connection id.
        id: String,
        /// Settings.
        #[command(flatten)]
        flags: ConnectionFlags,
    },
    /// Test this connection again.
    Enable {
        /// The connection id.
        id: String,
    },
    /// Stop testing this connection (cancels a queued run-now request).
    Disable {
        /// The connection id.
        id: String,
    },
    /// Delete a connection and its measurements.
    Delete {
        /// The connection id.
        id: String,
    },
}

fn connection_text(c: &netpulse_domain::model::Connection) -> String {
    let dto = ConnectionDto::from(c);
    let v = json_of(&dto);
    let mut s = String::new();
    if let Value::Object(map) = v {
        for (k, v) in map {
            s.push_str(&format!("{k:<26} {v}\n"));
        }
    }
    s.trim_end().to_owned()
}

/// Runs a connection command.
pub async fn connection(url: &str, out: &Output, cmd: ConnectionCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        ConnectionCommand::Create { probe, flags } => {
            let probe = ProbeId::parse(&probe).map_err(|e| CliError::usage("--probe", e))?;
            probes::get(&app, &probe)
                .await
                .map_err(|_| CliError::usage("--probe", format!("probe {probe} does not exist")))?;
            let c = connections::create(&app, &probe, flags.input()).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                format!("connection {} created\nid: {}", c.name, c.id)
            });
        }
        ConnectionCommand::List { probe } => {
            let probe = probe
                .map(|p| ProbeId::parse(&p).map_err(|e| CliError::usage("--probe", e)))
                .transpose()?;
            let list = connections::list(&app, probe.as_ref()).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|c| json_of(&ConnectionDto::from(c)))
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<36}  {:<8}  NAME", "ID", "PROBE", "ENABLED");
                for c in &list {
                    s.push_str(&format!(
                        "\n{:<36}  {:<36}  {:<8}  {}",
                        c.id, c.probe_id, c.enabled, c.name
                    ));
                }
                s
            });
        }
        ConnectionCommand::Show { id } => {
            let c = connections::get(&app, &parse_connection(&id)?).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                connection_text(&c)
            });
        }
        ConnectionCommand::Update { id, flags } => {
            let c = connections::update(&app, &parse_connection(&id)?, flags.input()).await?;
            print(out, &json_of(&ConnectionDto::from(&c)), || {
                connection_text(&c)
            });
        }
        ConnectionCommand::Enable { id } => set_connection(&app, out, &id, true).await?,
        ConnectionCommand::Disable { id } => set_connection(&app, out, &id, false).await?,
        ConnectionCommand::Delete { id } => {
            let id = parse_connection(&id)?;
            connections::delete(&app, &id).await?;
            print(out, &json!({ "id": id.as_str(), "deleted": true }), || {
                format!("connection {id} and its measurements deleted")
            });
        }
    }
    Ok(())
}

async fn set_connection(app: &App, out: &Output, id: &str, enabled: bool) -> Result<(), CliError> {
    let id = parse_connection(id)?;
    connections::set_enabled(app, &id, enabled).await?;
    print(
        out,
        &json!({ "id": id.as_str(), "enabled": enabled }),
        || {
            format!(
                "connection {id} {}",
                if enabled { "enabled" } else { "disabled" }
            )
        },
    );
    Ok(())
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (prompts for the password when omitted and interactive).
    Create {
        /// E-mail address (the login).
        #[arg(long, env = "NETPULSE_USER_EMAIL")]
        email: String,
        /// Password, at least 12 characters.
        #[arg(long, env = "NETPULSE_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new password (prompts when omitted and interactive).
    ResetPassword {
        /// E-mail address.
        #[arg(long, env = "NETPULSE_USER_EMAIL")]
        email: String,
        /// New password, at least 12 characters.
        #[arg(long, env = "NETPULSE_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// The minimum password length.
pub const MIN_PASSWORD_CHARS: usize = 12;

fn password(given: Option<String>) -> Result<String, CliError> {
    let pw = match given {
        Some(p) => p,
        None if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            let first = rpassword::prompt_password("Password: ")
                .map_err(|e| CliError::usage("--password", e))?;
            let again = rpassword::prompt_password("Again: ")
                .map_err(|e| CliError::usage("--password", e))?;
            if first != again {
                return Err(CliError::usage("--password", "the two entries differ"));
            }
            first
        }
        None => {
            return Err(CliError::usage(
                "--password",
                "is required when not running interactively",
            ));
        }
    };
    if pw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CliError::usage(
            "--password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(pw)
}

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(pw: &str) -> Result<String, CliError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| CliError {
        status: 1,
        message: format!("cannot make a salt: {e}"),
    })?;
    argon2::Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CliError {
            status: 1,
            message: format!("cannot hash the password: {e}"),
        })
}

fn email(text: &str) -> Result<String, CliError> {
    let e = text.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    if valid {
        Ok(e)
    } else {
        Err(CliError::usage(
            "--email",
            format!("{text:?} is not an e-mail address"),
        ))
    }
}

/// Runs a user command.
pub async fn user(url: &str, out: &Output, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create {
            email: e,
            password: p,
        } => {
            let e = email(&e)?;
            let hash = hash_password(&password(p)?)?;
            let app = open_app(url).await?;
            let user = User {
                id: UserId::parse(&new_uuid()).map_err(|e| CliError::usage("id", e))?,
                email: e.clone(),
                password_hash: hash,
                created_at: app.clock.now(),
            };
            app.storage
                .create_user(&user)
                .await
                .map_err(AppError::from)?;
            print(out, &json!({ "id": user.id.as_str(), "email": e }), || {
                format!("user {e} created")
            });
        }
        UserCommand::ResetPassword {
            email: e,
            password: p,
        } => {
            let e = email(&e)?;
            let app = open_app(url).await?;
            let user = app
                .storage
                .user_by_email(&e)
                .await
                .map_err(AppError::from)?
                .ok_or_else(|| CliError::usage("--email", format!("no user with e-mail {e}")))?;
            let hash = hash_password(&password(p)?)?;
            app.storage
                .set_password_hash(&user.id, &hash)
                .await
                .map_err(AppError::from)?;
            print(
                out,
                &json!({ "id": user.id.as_str(), "email": e, "passwordReset": true }),
                || format!("password of {e} replaced"),
            );
        }
    }
    Ok(())
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a REST API token; prints it once.
    Create {
        /// What the token is for.
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// The token id.
        id: String,
    },
}

/// Runs a token command.
pub async fn token(url: &str, out: &Output, cmd: TokenCommand) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        TokenCommand::Create { name } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > 100 {
                return Err(CliError::usage("--name", "must be 1–100 characters"));
            }
            let secret = tokens::generate();
            let t = ApiToken {
                id: ApiTokenId::parse(&new_uuid()).map_err(|e| CliError::usage("id", e))?,
                name,
                created_at: app.clock.now(),
                last_used_at: None,
            };
            app.storage
                .create_api_token(&t, &tokens::digest(&secret))
                .await
                .map_err(AppError::from)?;
            print(
                out,
                &json!({ "id": t.id.as_str(), "name": t.name, "token": secret }),
                || {
                    format!(
                        "token {} created\nid:    {}\ntoken: {secret}\n(shown only now)",
                        t.name, t.id
                    )
                },
            );
        }
        TokenCommand::List => {
            let list = app.storage.api_tokens().await.map_err(AppError::from)?;
            let items: Vec<Value> = list
                .iter()
                .map(|t| json!({ "id": t.id.as_str(), "name": t.name, "createdAt": t.created_at.to_rfc3339() }))
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<36}  {:<25}  NAME", "ID", "CREATED");
                for t in &list {
                    s.push_str(&format!(
                        "\n{:<36}  {:<25}  {}",
                        t.id,
                        t.created_at.to_rfc3339(),
                        t.name
                    ));
                }
                s
            });
        }
        TokenCommand::Revoke { id } => {
            let id = ApiTokenId::parse(&id).map_err(|e| CliError::usage("ID", e))?;
            app.storage
                .revoke_api_token(&id)
                .await
                .map_err(AppError::from)?;
            print(out, &json!({ "id": id.as_str(), "revoked": true }), || {
                format!("token {id} revoked")
            });
        }
    }
    Ok(())
}

/// `measurements …`
#[derive(Debug, Subcommand)]
pub enum MeasurementsCommand {
    /// Re-derive the typed columns of every stored result from its raw output with the current
    /// parsers (a parser fix then repairs history). Verdicts recorded at ingest are kept.
    Reparse,
}

/// Runs a measurements command.
pub async fn measurements(
    url: &str,
    out: &Output,
    cmd: MeasurementsCommand,
) -> Result<(), CliError> {
    let app = open_app(url).await?;
    match cmd {
        MeasurementsCommand::Reparse => {
            let (mut seen, mut changed) = (0_u64, 0_u64);
            let mut after = None;
            loop {
                let batch = app
                    .storage
                    .raw_outputs(after.as_ref(), 500)
                    .await
                    .map_err(AppError::from)?;
                let Some(last) = batch.last() else { break };
                after = Some(last.id.clone());
                for raw in &batch {
                    seen += 1;
                    let fresh = parse::parse(raw.engine, &raw.raw);
                    let stored = app
                        .storage
                        .measurement(&raw.id)
                        .await
                        .map_err(AppError::from)?;
                    if stored.is_some_and(|m| m.observation != fresh) {
                        app.storage
                            .replace_observation(&raw.id, &fresh)
                            .await
                            .map_err(AppError::from)?;
                        changed += 1;
                    }
                }
            }
            print(
                out,
                &json!({ "examined": seen, "changed": changed }),
                || format!("{seen} measurements examined, {changed} re-derived"),
            );
        }
    }
    Ok(())
}
