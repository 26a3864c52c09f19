//! `netpulse user …`: dashboard accounts.

use clap::Subcommand;
use serde_json::json;

use super::output::print;
use super::{CliError, Output};
use crate::service::{auth, passwords, users};
use crate::startup::open_app;

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

/// Runs a user command.
pub async fn user(url: &str, out: &Output, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create {
            email: e,
            password: p,
        } => {
            let e = email(&e)?;
            let password = password(p)?;
            let app = open_app(url).await?;
            let user = users::create(&app, e.clone(), password).await?;
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
