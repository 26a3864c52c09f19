//! Connectivity checks: create (validated, defaults applied), partial updates merged, the
//! default connectivity set of a new probe, and the check set `/due` hands the agent with its
//! version (ETag).

use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::check::round::DEFAULT_PERIOD_S;
use netpulse_domain::check::spec::DEFAULT_INTERVAL_S;
use netpulse_domain::check::{
    CheckKind, CheckParams, CheckRole, CheckSetVersion, CheckSpec, FamilyMode,
};
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_ports::agent_api::CheckSet;
use netpulse_ports::check_store::Check;
use sha2::{Digest, Sha256};

use super::check_params::{ParamsInput, apply_params, params_field};
use super::probes::labels_from_pairs;
use super::{App, new_uuid};
use crate::error::AppError;

/// The setting that turns the default set off for new probes (`off`; anything else is on).
pub const DEFAULT_SET_SETTING: &str = "checks.default_set";

pub use netpulse_domain::check::alert::{
    SERVICE_ALERT_AFTER, SERVICE_RECOVER_AFTER, default_service_alerts,
};

/// Check settings as typed by a user; every field optional (create fills defaults, update keeps
/// what is stored). Field names are the domain's; the edges map them to flags and keys.
#[derive(Debug, Clone, Default)]
pub struct CheckInput {
    /// `icmp`, `http`, `dns`, `tcp` or `udp` (required on create; fixed afterwards).
    pub kind: Option<String>,
    /// Host, IP literal, URL (http) or name (dns).
    pub target: Option<String>,
    /// The port (tcp, udp); `Some(None)` clears it.
    pub port: Option<Option<u32>>,
    /// `dual`, `v4` or `v6`.
    pub family: Option<String>,
    /// `connectivity` or `service`.
    pub role: Option<String>,
    /// Seconds between runs.
    pub interval_seconds: Option<u32>,
    /// The kind's parameters (merged onto the stored or default ones).
    pub params: ParamsInput,
    /// Own alert threshold (service checks; `Some(None)` returns to the default 3).
    pub alert_after: Option<Option<u32>>,
    /// Own recovery threshold (`Some(None)` returns to the default 2).
    pub recover_after: Option<Option<u32>>,
    /// Whether the probe runs it.
    pub enabled: Option<bool>,
    /// `key=value` labels (replace all when given).
    pub labels: Option<Vec<String>>,
}

impl CheckInput {
    /// Builds the check: `base` is the stored one on update, `None` on create.
    pub fn apply(
        self,
        app: &App,
        id: CheckId,
        probe_id: ProbeId,
        base: Option<&Check>,
    ) -> Result<Check, AppError> {
        let now = app.clock.now();
        let kind = match (self.kind.as_deref(), base) {
            (Some(k), None) => CheckKind::parse(k)?,
            (Some(k), Some(b)) if CheckKind::parse(k)? == b.spec.kind => b.spec.kind,
            (Some(_), Some(b)) => {
                return Err(AppError::invalid(
                    "kind",
                    format!(
                        "cannot be changed (this is a {} check; create a new one)",
                        b.spec.kind
                    ),
                ));
            }
            (None, Some(b)) => b.spec.kind,
            (None, None) => return Err(AppError::invalid("kind", "is required")),
        };
        let target = match (self.target, base) {
            (Some(t), _) => t,
            (None, Some(b)) => b.spec.target.clone(),
            (None, None) => return Err(AppError::invalid("target", "is required")),
        };
        let port =
            match self.port {
                Some(Some(p)) => Some(u16::try_from(p).map_err(|_| {
                    AppError::invalid("port", format!("must be 1 to 65535 (got {p})"))
                })?),
                Some(None) => None,
                None => base.and_then(|b| b.spec.port),
            };
        let family = match (self.family, base) {
            (Some(f), _) => FamilyMode::parse(&f)?,
            (None, Some(b)) => b.spec.family,
            (None, None) => FamilyMode::Dual,
        };
        let role = match (self.role, base) {
            (Some(r), _) => CheckRole::parse(&r)?,
            (None, Some(b)) => b.spec.role,
            (None, None) => CheckRole::Service,
        };
        let base_params =
            base.map_or_else(|| CheckParams::default_for(kind), |b| b.spec.params.clone());
        let params = apply_params(kind, base_params, self.params)?;
        let spec = CheckSpec {
            kind,
            target,
            port,
            family,
            role,
            interval_s: self
                .interval_seconds
                .or(base.map(|b| b.spec.interval_s))
                .unwrap_or(DEFAULT_INTERVAL_S),
            params,
        }
        .validate()
        .map_err(|e| AppError::from(params_field(e)))?;
        let alert_after = match self.alert_after {
            Some(v) => v,
            None => base.and_then(|b| b.alerts).map(|a| a.unhealthy_count()),
        };
        let recover_after = match self.recover_after {
            Some(v) => v,
            None => base.and_then(|b| b.alerts).map(|a| a.healthy_count()),
        };
        let alerts = match (alert_after, recover_after) {
            (None, None) => None,
            (n, m) => Some(AlertPolicy::new(
                n.unwrap_or(SERVICE_ALERT_AFTER),
                m.unwrap_or(SERVICE_RECOVER_AFTER),
            )?),
        };
        let labels = match (self.labels, base) {
            (Some(pairs), _) => labels_from_pairs(&pairs)?,
            (None, Some(b)) => b.labels.clone(),
            (None, None) => netpulse_domain::values::Labels::new(),
        };
        Ok(Check {
            id,
            probe_id,
            spec,
            alerts,
            enabled: self.enabled.or(base.map(|b| b.enabled)).unwrap_or(true),
            labels,
            created_at: base.map_or(now, |b| b.created_at),
            updated_at: now,
        })
    }
}

fn fresh_id() -> CheckId {
    CheckId::parse(&new_uuid()).expect("uuid text is a valid id")
}

/// Creates a check of `probe`.
pub async fn create(app: &App, probe: &ProbeId, input: CheckInput) -> Result<Check, AppError> {
    let check = input.apply(app, fresh_id(), probe.clone(), None)?;
    app.storage
        .create_checks(std::slice::from_ref(&check))
        .await?;
    super::audit::record(
        app,
        "check.create",
        format!("check:{}", check.id),
        format!("on probe {probe}"),
    )
    .await?;
    Ok(check)
}

/// One check.
pub async fn get(app: &App, id: &CheckId) -> Result<Check, AppError> {
    app.storage
        .check(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "check",
            id: id.to_string(),
        })
}

/// Every check, or one probe's.
pub async fn list(app: &App, probe: Option<&ProbeId>) -> Result<Vec<Check>, AppError> {
    Ok(app.storage.checks(probe).await?)
}

/// Changes some settings of a check (omitted ones keep their value).
pub async fn update(app: &App, id: &CheckId, input: CheckInput) -> Result<Check, AppError> {
    let stored = get(app, id).await?;
    let check = input.apply(app, id.clone(), stored.probe_id.clone(), Some(&stored))?;
    app.storage.update_check(&check).await?;
    super::audit::record(
        app,
        "check.update",
        format!("check:{}", check.id),
        format!("on probe {}", check.probe_id),
    )
    .await?;
    Ok(check)
}

/// Deletes a check with its results.
pub async fn delete(app: &App, id: &CheckId) -> Result<(), AppError> {
    app.storage.delete_check(id).await?;
    super::audit::record(app, "check.delete", format!("check:{id}"), "").await
}

/// The public hosts of the default set: Cloudflare (1.1.1.1) and Quad9 (9.9.9.9), each by its
/// IPv4 and IPv6 anycast literal. Every probe with the default set contacts them every minute
/// (ICMP echo and a plain-HTTP GET of `/`).
pub const DEFAULT_HOSTS: [(&str, &str, FamilyMode); 4] = [
    ("Cloudflare", "1.1.1.1", FamilyMode::V4),
    ("Cloudflare", "2606:4700:4700::1111", FamilyMode::V6),
    ("Quad9", "9.9.9.9", FamilyMode::V4),
    ("Quad9", "2620:fe::fe", FamilyMode::V6),
];

/// The default connectivity set of a probe: ICMP and HTTP to each of [`DEFAULT_HOSTS`] (eight
/// checks, role connectivity, every 60 s).
pub fn default_set(app: &App, probe: &ProbeId) -> Result<Vec<Check>, AppError> {
    let mut out = Vec::new();
    for kind in [CheckKind::Icmp, CheckKind::Http] {
        for (provider, address, family) in DEFAULT_HOSTS {
            let target = match (kind, family) {
                (CheckKind::Http, FamilyMode::V6) => format!("http://[{address}]/"),
                (CheckKind::Http, _) => format!("http://{address}/"),
                _ => address.to_owned(),
            };
            let input = CheckInput {
                kind: Some(kind.as_str().into()),
                target: Some(target),
                family: Some(family.as_str().into()),
                role: Some(CheckRole::Connectivity.as_str().into()),
                labels: Some(vec![
                    format!("provider={provider}"),
                    "set=default".to_owned(),
                ]),
                ..CheckInput::default()
            };
            out.push(input.apply(app, fresh_id(), probe.clone(), None)?);
        }
    }
    Ok(out)
}

/// Adds the default set to `probe` (again): returns the checks created.
pub async fn add_defaults(app: &App, probe: &ProbeId) -> Result<Vec<Check>, AppError> {
    let set = default_set(app, probe)?;
    app.storage.create_checks(&set).await?;
    Ok(set)
}

/// Whether new probes get the default set (the setting is on unless set to `off`).
pub async fn defaults_for_new_probes(app: &App) -> Result<bool, AppError> {
    Ok(app.storage.setting(DEFAULT_SET_SETTING).await?.as_deref() != Some("off"))
}

/// Switches the default set for new probes on or off.
pub async fn set_defaults_for_new_probes(app: &App, on: bool) -> Result<(), AppError> {
    let now = app.clock.now();
    Ok(app
        .storage
        .set_setting(DEFAULT_SET_SETTING, if on { "on" } else { "off" }, now)
        .await?)
}

/// The version of a set: the first 16 hex digits of a SHA-256 over the period and each check's
/// id and settings, in order (so any change of the set changes it, whichever process computes
/// it).
pub fn version_of(period_s: u32, items: &[(CheckId, CheckSpec)]) -> CheckSetVersion {
    let mut h = Sha256::new();
    h.update(period_s.to_le_bytes());
    for (id, spec) in items {
        h.update(id.as_str().as_bytes());
        h.update(format!("{spec:?}").as_bytes());
        h.update([0]);
    }
    let hex = h.finalize()[..8]
        .iter()
        .fold(String::with_capacity(16), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
    CheckSetVersion::parse(&hex).expect("16 hex digits are a valid version")
}

/// The probe's check set (enabled checks; reads the check rows, never results); unchanged when
/// `known` is its version.
pub async fn check_set(
    app: &App,
    probe: &ProbeId,
    known: Option<&str>,
) -> Result<CheckSet, AppError> {
    let items: Vec<(CheckId, CheckSpec)> = app
        .storage
        .checks(Some(probe))
        .await?
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| (c.id, c.spec))
        .collect();
    let period_s = DEFAULT_PERIOD_S;
    let version = version_of(period_s, &items);
    let unchanged = known == Some(version.as_str());
    Ok(CheckSet {
        version,
        period_s,
        unchanged,
        items: if unchanged { Vec::new() } else { items },
    })
}
