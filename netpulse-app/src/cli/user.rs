//! `netpulse user …`: dashboard accounts.

use clap::Subcommand;
use serde_json::json;

use super::output::print;
use super::{CliError, Output};
use crate::service::{auth, passwords, users};
use crate::startup::open_app;
use netpulse_domain::access::Role;
use netpulse_ports::access_store::AccessChange;

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
        /// Role: viewer, operator or admin.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// List users with their roles.
    List,
    /// Change a user's role (the last enabled admin stays an admin).
    SetRole {
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// Role: viewer, operator or admin.
        #[arg(long)]
        role: String,
    },
    /// Disable a user: they cannot sign in; their sessions end and their tokens stop working.
    Disable {
        /// E-mail address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user.
    Enable {
        /// E-mail address.
        #[arg(long)]
        email: String,
    },
    /// Delete a user with their sessions and tokens.
    Delete {
        /// E-mail address.
        #[arg(long)]
        email: String,
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
    passwords::check(&pw).map_err(|e| CliError::usage("--password", e))?;
    Ok(pw)
}

fn email(text: &str) -> Result<String, CliError> {
    auth::check_email(text)
        .map_err(|_| CliError::usage("--email", format!("{text:?} is not an e-mail address")))
}

fn role_arg(text: &str) -> Result<Role, CliError> {
    Role::parse(text).ok_or_else(|| {
        CliError::usage(
            "--role",
            format!("{text:?} is not a role: use viewer, operator or admin"),
        )
    })
}

async fn access_change(
    url: &str,
    out: &Output,
    e: &str,
    change: AccessChange,
) -> Result<(), CliError> {
    let e = email(e)?;
    let app = open_app(url).await?;
    let user = users::by_email(&app, &e)
        .await?
        .ok_or_else(|| CliError::usage("--email", format!("no user with e-mail {e}")))?;
    let after = users::change(&app, &user.id, change).await?;
    let text = match (change, &after) {
        (AccessChange::Delete, _) | (_, None) => format!("user {e} deleted"),
        (AccessChange::Role(r), _) => format!("{e} is now {}", r.as_str()),
        (AccessChange::Disabled(true), _) => format!("{e} disabled"),
        (AccessChange::Disabled(false), _) => format!("{e} enabled"),
    };
    let value = match &after {
        Some(u) => {
            json!({ "id": u.id.as_str(), "email": u.email, "role": u.role.as_str(), "disabled": u.disabled })
        }
        None => json!({ "id": user.id.as_str(), "email": e, "deleted": true }),
    };
    print(out, &value, || text);
    Ok(())
}

/// Runs a user command.
pub async fn user(url: &str, out: &Output, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create {
            email: e,
            password: p,
            role,
        } => {
            let e = email(&e)?;
            let role = role_arg(&role)?;
            let password = password(p)?;
            let app = open_app(url).await?;
            let user = users::create_with_role(&app, e.clone(), password, role).await?;
            print(
                out,
                &json!({ "id": user.id.as_str(), "email": e, "role": role.as_str() }),
                || format!("user {e} created ({})", role.as_str()),
            );
        }
        UserCommand::List => {
            let app = open_app(url).await?;
            let list = users::list(&app).await?;
            let items: Vec<_> = list
                .iter()
                .map(|u| {
                    json!({
                        "id": u.id.as_str(),
                        "email": u.email,
                        "role": u.role.as_str(),
                        "disabled": u.disabled,
                        "createdAt": u.created_at.to_rfc3339(),
                    })
                })
                .collect();
            print(out, &json!({ "items": items }), || {
                let mut s = format!("{:<40}  {:<8}  STATE", "EMAIL", "ROLE");
                for u in &list {
                    let state = if u.disabled { "disabled" } else { "enabled" };
                    s.push_str(&format!(
                        "\n{:<40}  {:<8}  {state}",
                        u.email,
                        u.role.as_str()
                    ));
                }
                s
            });
        }
        UserCommand::SetRole { email: e, role } => {
            let role = role_arg(&role)?;
            access_change(url, out, &e, AccessChange::Role(role)).await?;
        }
        UserCommand::Disable { email: e } => {
            access_change(url, out, &e, AccessChange::Disabled(true)).await?;
        }
        UserCommand::Enable { email: e } => {
            access_change(url, out, &e, AccessChange::Disabled(false)).await?;
        }
        UserCommand::Delete { email: e } => {
            access_change(url, out, &e, AccessChange::Delete).await?;
        }
        UserCommand::ResetPassword {
            email: e,
            password: p,
        } => {
            let e = email(&e)?;
            let app = open_app(url).await?;
            let user = users::by_email(&app, &e)
                .await?
                .ok_or_else(|| CliError::usage("--email", format!("no user with e-mail {e}")))?;
            users::reset_password(&app, &user.id, password(p)?).await?;
            print(
                out,
                &json!({ "id": user.id.as_str(), "email": e, "passwordReset": true }),
                || format!("password of {e} replaced"),
            );
        }
    }
    Ok(())
}
