//! Retention and prune (issue 17; the rules are `netpulse_domain::retention`): each kind of
//! data's retention in the settings table (`retention.*`, `forever` or days), and the prune
//! that removes what is older than each kind's cut in batches of [`BATCH`] rows, each its own
//! short statement, so ingest never waits long for the writer.
//!
//! The server prunes every [`EVERY_SECONDS`] in the rollup job, under the `rollups` lease, so
//! a prune and a rollup recompute never interleave in the server; `netpulse prune` does the
//! same from the CLI. Before raw speed results go, the dirty-hour queue is worked through, so
//! the buckets of what goes are final; each kind's cut is recorded as its floor before its
//! rows are deleted, and no bucket below the raw-speed floor is recomputed again (see
//! `rollups`), so a recompute that raced a prune is discarded and redone.
//!
//! Not pruned by this: outage episodes and rounds, incidents, the audit log, alert and agent
//! states, baselines, the notification log (which has its own retention).

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::retention::{DataKind, Keep, Retention, floor_after};

use super::App;
use super::rollups::local_day;
use crate::error::AppError;

/// Rows deleted per statement.
pub const BATCH: u32 = 1_000;
/// How often the server prunes, seconds (the first prune one period after start).
pub const EVERY_SECONDS: u64 = 3_600;

/// One kind's retention as `retention show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindRetention {
    /// The kind.
    pub kind: DataKind,
    /// How long it is kept.
    pub keep: Keep,
    /// Whether that is the default (nothing set).
    pub default: bool,
    /// The floor of the last prune, if any.
    pub floor: Option<Timestamp>,
}

/// What a prune removed (or would remove) of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindPrune {
    /// The kind.
    pub kind: DataKind,
    /// How long it is kept.
    pub keep: Keep,
    /// Rows older than this go (`None`: kept forever).
    pub cut: Option<Timestamp>,
    /// Rows removed (or, in a dry run, that would be).
    pub rows: u64,
    /// The oldest row kept.
    pub oldest_kept: Option<Timestamp>,
}

/// The retention in force: the stored settings, the default for a kind not set (a stored
/// value that does not parse counts as not set, with a warning). A stored set breaking the
/// rules (only possible behind the CLI's back) is refused, naming the setting, rather than
/// pruned by: `retention set` repairs it.
pub async fn load(app: &App) -> Result<Retention, AppError> {
    checked(&stored(app).await?)
}

fn checked(set: &[(DataKind, Keep)]) -> Result<Retention, AppError> {
    Retention::of(set).map_err(|e| AppError::invalid(e.kind.setting_key(), e.message))
}

async fn stored(app: &App) -> Result<Vec<(DataKind, Keep)>, AppError> {
    let mut set = Vec::new();
    for kind in DataKind::ALL {
        let Some(text) = app.storage.setting(kind.setting_key()).await? else {
            continue;
        };
        match Keep::parse(&text) {
            Ok(keep) => set.push((kind, keep)),
            Err(e) => tracing::warn!(setting = kind.setting_key(), error = %e, "ignored"),
        }
    }
    Ok(set)
}

/// Every kind's retention, whether it is the default, and its floor.
pub async fn show(app: &App) -> Result<Vec<KindRetention>, AppError> {
    let set = stored(app).await?;
    let r = checked(&set)?;
    let floors = floors(app).await?;
    Ok(DataKind::ALL
        .into_iter()
        .map(|kind| KindRetention {
            kind,
            keep: r.keep(kind),
            default: !set.iter().any(|(k, _)| *k == kind),
            floor: floors.get(&kind).copied(),
        })
        .collect())
}

/// Sets how long `kind` (a kind's name) is kept (`days`: a number of days or `forever`);
/// refused, naming the field or the setting, when it breaks a minimum or leaves a coarser
/// level shorter than the finer one it covers.
pub async fn set(app: &App, kind: &str, days: &str) -> Result<Retention, AppError> {
    let names: Vec<&str> = DataKind::ALL.iter().map(|k| k.name()).collect();
    let kind = DataKind::parse(kind).ok_or_else(|| {
        AppError::invalid(
            "kind",
            format!(
                "{kind:?} is not a kind of data (one of {})",
                names.join(", ")
            ),
        )
    })?;
    let keep = Keep::parse(days).map_err(|e| AppError::invalid("days", e))?;
    // The change first, so that a rule it breaks names its setting.
    let mut set = vec![(kind, keep)];
    set.extend(stored(app).await?.into_iter().filter(|(k, _)| *k != kind));
    let r = checked(&set)?;
    app.storage
        .set_setting(kind.setting_key(), &keep.to_string(), app.clock.now())
        .await?;
    Ok(r)
}

/// The floors recorded so far.
pub async fn floors(app: &App) -> Result<BTreeMap<DataKind, Timestamp>, AppError> {
    Ok(app.storage.retention_floors().await?.into_iter().collect())
}

/// The raw-speed floor (rollups start there).
pub async fn raw_speed_floor(app: &App) -> Result<Option<Timestamp>, AppError> {
    Ok(floors(app).await?.get(&DataKind::RawSpeed).copied())
}

/// Prunes every kind (or, with `dry_run`, only counts what would go); see the module docs.
pub async fn prune(app: &App, dry_run: bool) -> Result<Vec<KindPrune>, AppError> {
    let now = app.clock.now();
    let retention = load(app).await?;
    let tz = super::settings::load(app).await?.tz;
    let floors = floors(app).await?;
    if !dry_run {
        // The buckets of the raw results about to go must be final first.
        super::rollups::catch_up(app).await?;
    }
    let mut out = Vec::new();
    for kind in DataKind::ALL {
        let keep = retention.keep(kind);
        let Some(cut) = kind.cut(keep, now, |at| local_day(at, &tz).0) else {
            out.push(KindPrune {
                kind,
                keep,
                cut: None,
                rows: 0,
                oldest_kept: None,
            });
            continue;
        };
        let cut = floor_after(floors.get(&kind).copied(), cut);
        let (rows, oldest_kept) = if dry_run {
            let count = app.storage.count_prunable(kind, cut).await?;
            (count.rows, count.oldest_kept)
        } else {
            let floor = app.storage.raise_retention_floor(kind, cut, now).await?;
            let mut rows = 0;
            loop {
                let n = app.storage.prune_batch(kind, floor, BATCH).await?;
                rows += n;
                if n < u64::from(BATCH) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            (
                rows,
                app.storage.count_prunable(kind, floor).await?.oldest_kept,
            )
        };
        out.push(KindPrune {
            kind,
            keep,
            cut: Some(cut),
            rows,
            oldest_kept,
        });
    }
    let gone: u64 = out.iter().map(|k| k.rows).sum();
    if !dry_run && gone > 0 {
        tracing::info!(rows = gone, "retention: pruned");
    }
    Ok(out)
}

/// One round of the server's prune: under the `rollups` lease (held by the rollup job's
/// `holder`), prunes; does nothing without the lease.
pub async fn maintain(app: &App, holder: &str) -> Result<Option<Vec<KindPrune>>, AppError> {
    let now = app.clock.now();
    if !app
        .storage
        .acquire_lease(
            "rollups",
            holder,
            now,
            now.plus_seconds(super::rollups::LEASE_SECONDS),
        )
        .await?
    {
        return Ok(None);
    }
    prune(app, false).await.map(Some)
}
