//! Who is asking and what they may do: a [`Principal`] (a signed-in user or an API token) and
//! its permissions, always computed from the user's *current* role (`netpulse_domain::access`).
//! The edges find the rule of each route in [`super::route_rules`] and call
//! [`Principal::require`] before a handler runs.

use netpulse_domain::access::{Permission, Role, effective};
use netpulse_domain::id::{ApiTokenId, UserId};

use crate::error::AppError;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A dashboard session (cookie).
    Session,
    /// An API token.
    Token(ApiTokenId),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user (`None` for a service token without an owner).
    pub user_id: Option<UserId>,
    /// The user's e-mail, or the token's name for a service token.
    pub name: String,
    /// The user's current role (`None` for a service token).
    pub role: Option<Role>,
    /// What the caller may do now.
    pub permissions: Vec<Permission>,
    /// How they authenticated.
    pub via: Via,
}

impl Principal {
    /// A signed-in user with their current role.
    pub fn user(user_id: UserId, email: String, role: Role, via: Via) -> Self {
        Self {
            user_id: Some(user_id),
            name: email,
            role: Some(role),
            permissions: role.permissions(),
            via,
        }
    }

    /// A token: its scopes ∩ its owner's current role (a service token: its scopes).
    pub fn token(
        id: ApiTokenId,
        name: String,
        owner: Option<(UserId, String, Role)>,
        scopes: &[Permission],
    ) -> Self {
        if let Some((user_id, email, role)) = owner {
            return Self {
                user_id: Some(user_id),
                name: email,
                role: Some(role),
                permissions: effective(scopes, role),
                via: Via::Token(id),
            };
        }
        let mut permissions = scopes.to_vec();
        permissions.sort();
        permissions.dedup();
        Self {
            user_id: None,
            name,
            role: None,
            permissions,
            via: Via::Token(id),
        }
    }

    /// Whether the caller has `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// `Ok` when the caller has `p`; otherwise 403 naming the permission.
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(forbidden(p, self.role))
        }
    }
}

/// The 403 of a missing permission: names the permission (and the role, when there is one).
pub fn forbidden(p: Permission, role: Option<Role>) -> AppError {
    AppError::Forbidden(match role {
        Some(r) => format!(
            "this needs the {} permission, which the {} role does not have",
            p.as_str(),
            r.as_str()
        ),
        None => format!(
            "this needs the {} permission, which this token does not have",
            p.as_str()
        ),
    })
}

/// Reads a scope list: preset names (`read-only`, `operator`, `admin`) and permission names,
/// separated by commas or spaces; unknown names are refused naming `field`.
pub fn parse_scopes(field: &str, text: &str) -> Result<Vec<Permission>, AppError> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        match preset(word) {
            Some(ps) => out.extend(ps),
            None => out.push(Permission::parse(word).ok_or_else(|| {
                AppError::invalid(
                    field,
                    format!(
                        "unknown scope {word:?}: use read-only, operator, admin or permission names ({})",
                        Permission::ALL.map(Permission::as_str).join(", ")
                    ),
                )
            })?),
        }
    }
    if out.is_empty() {
        return Err(AppError::invalid(field, "give at least one scope"));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The scopes of a preset: `read-only` (a Viewer's), `operator`, `admin` (everything).
pub fn preset(name: &str) -> Option<Vec<Permission>> {
    match name.trim().to_ascii_lowercase().as_str() {
        "read-only" | "readonly" | "viewer" => Some(Role::Viewer.permissions()),
        "operator" => Some(Role::Operator.permissions()),
        "admin" => Some(Role::Admin.permissions()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_presets() {
        assert_eq!(
            parse_scopes("scopes", "read-only").unwrap(),
            Role::Viewer.permissions()
        );
        assert_eq!(
            parse_scopes("scopes", "results:read, tests:run results:read").unwrap(),
            vec![Permission::ResultsRead, Permission::TestsRun]
        );
        let e = parse_scopes("scopes", "root").unwrap_err();
        assert_eq!(e.field(), Some("scopes"));
        assert!(parse_scopes("scopes", " ").is_err());
    }

    #[test]
    fn a_demoted_owner_shrinks_the_token() {
        let id = ApiTokenId::parse("00000000-0000-4000-8000-000000000001").unwrap();
        let user = UserId::parse("00000000-0000-4000-8000-000000000002").unwrap();
        let t = Principal::token(
            id,
            "t".into(),
            Some((user, "a@b.cd".into(), Role::Viewer)),
            &Permission::ALL,
        );
        assert!(t.can(Permission::ResultsRead));
        let e = t.require(Permission::TestsRun).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(e.to_string().contains("tests:run"), "{e}");
    }
}
