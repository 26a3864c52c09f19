//! `/api/v1/auth/*`: short-lived access tokens (JWT) for API clients — sign in with e-mail,
//! password and, when the account has 2FA, `totp`; refresh; sign out (the token's session
//! ends, so it and its refreshes stop working at once).

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme, Tags};

use crate::error::AppError;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::{ApiError, Problem};
use crate::service::App;
use crate::service::jwt::{self, AccessToken, Login};

#[derive(Tags)]
enum Tag {
    /// Access tokens for API clients.
    Auth,
}

/// A sign-in for an access token.
#[derive(Debug, Object)]
pub struct LoginDto {
    /// The account's e-mail.
    pub email: String,
    /// Its password.
    pub password: String,
    /// A TOTP code or a recovery code (required when the account has two-factor sign-in).
    pub totp: Option<String>,
}

/// An access token.
#[derive(Debug, Object)]
pub struct AccessTokenDto {
    /// The JWT (HS256): send it as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds it lives (900).
    pub expires_in: i64,
}

/// Why a sign-in was refused.
#[derive(Debug, Object)]
pub struct LoginRefusedDto {
    /// `mfa_required` (send `totp`), `invalid_credentials` or `throttled`.
    pub error: String,
    /// The same as a problem code: `unauthorized` or `throttled`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The answers of a sign-in.
#[derive(Debug, ApiResponse)]
pub enum LoginAnswer {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<AccessTokenDto>),
    /// The body is invalid.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// Wrong credentials, or `mfa_required`.
    #[oai(status = 401)]
    Refused(Json<LoginRefusedDto>),
    /// Too many failed sign-ins of the account or the address.
    #[oai(status = 429)]
    Throttled(Json<LoginRefusedDto>),
    /// The database is unavailable.
    #[oai(status = 503)]
    Unavailable(Json<Problem>),
}

fn dto(t: AccessToken) -> AccessTokenDto {
    AccessTokenDto {
        access_token: t.token,
        token_type: "Bearer".into(),
        expires_in: t.expires_in,
    }
}

fn refused(error: &str, message: &str) -> Json<LoginRefusedDto> {
    Json(LoginRefusedDto {
        error: error.into(),
        code: if error == "throttled" {
            "throttled"
        } else {
            "unauthorized"
        }
        .into(),
        message: message.into(),
    })
}

fn failed(e: &AppError) -> LoginAnswer {
    e.log("API sign-in failed");
    let field = e.field().map(str::to_owned);
    let problem = Json(Problem {
        code: e.code().into(),
        message: e.to_string(),
        field,
    });
    if e.status() == 400 {
        LoginAnswer::BadRequest(problem)
    } else {
        LoginAnswer::Unavailable(problem)
    }
}

/// The bearer token of a refresh or sign-out.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct AccessTokenAuth(Bearer);

impl std::fmt::Debug for AccessTokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessTokenAuth(***)")
    }
}

/// The access-token endpoints.
#[derive(Debug)]
pub struct AuthApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl AuthApi {
    /// Signs in for an access token (JWT, 15 minutes). When the account has two-factor
    /// sign-in and `totp` is missing, the answer is 401 `{"error": "mfa_required"}`. Failures
    /// share the dashboard's sign-in throttle.
    #[oai(path = "/auth/login", method = "post", tag = "Tag::Auth")]
    async fn login(&self, req: &Request, body: JsonBody<LoginDto>) -> LoginAnswer {
        let input = (|| {
            let f = Fields::of(&body.value)?;
            f.only(&["email", "password", "totp"])?;
            let email = f
                .opt_string("email")?
                .ok_or_else(|| AppError::invalid("email", "is required"))?
                .to_owned();
            let password = f
                .opt_string("password")?
                .ok_or_else(|| AppError::invalid("password", "is required"))?
                .to_owned();
            let totp = f.opt_string("totp")?.map(str::to_owned);
            Ok::<_, AppError>((email, password, totp))
        })();
        let (email, password, totp) = match input {
            Ok(v) => v,
            Err(e) => return failed(&e),
        };
        let ip = super::access::token_client_ip(req).unwrap_or_else(|| "unknown".into());
        match jwt::login(&self.app, &email, password, totp.as_deref(), &ip).await {
            Ok(Login::Issued(t)) => LoginAnswer::Ok(Json(dto(t))),
            Ok(Login::MfaRequired) => LoginAnswer::Refused(refused(
                "mfa_required",
                "this account has two-factor sign-in: send totp (a code or a recovery code)",
            )),
            Ok(Login::Refused) => LoginAnswer::Refused(refused(
                "invalid_credentials",
                "wrong e-mail, password or code",
            )),
            Ok(Login::Throttled(minutes)) => LoginAnswer::Throttled(refused(
                "throttled",
                &format!("too many failed sign-ins: try again in {minutes} minute(s)"),
            )),
            Err(e) => failed(&e),
        }
    }

    /// A fresh access token for the same session (which it keeps alive).
    #[oai(path = "/auth/refresh", method = "post", tag = "Tag::Auth")]
    async fn refresh(&self, auth: AccessTokenAuth) -> Result<Json<AccessTokenDto>, ApiError> {
        Ok(Json(dto(jwt::refresh(&self.app, &auth.0.token).await?)))
    }

    /// Ends the token's session: the token and its refreshes stop working at once.
    #[oai(path = "/auth/logout", method = "post", tag = "Tag::Auth")]
    async fn logout(&self, auth: AccessTokenAuth) -> Result<Json<LogoutDto>, ApiError> {
        jwt::logout(&self.app, &auth.0.token).await?;
        Ok(Json(LogoutDto { signed_out: true }))
    }
}

/// The answer of a sign-out.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct LogoutDto {
    /// The session ended.
    pub signed_out: bool,
}
