//! The catalog part of the snapshot: probes and the connections `/metrics` exports, with
//! labels that tell series apart; rebuilt from the probe and connection rows at every refresh.

use std::collections::HashMap;
use std::sync::Arc;

use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Probe;
use netpulse_ports::metrics_store::MetricsConnection;

/// The labels every series of a connection carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLabels {
    /// The probe's name (made unique, see [`Catalog::build`]).
    pub probe: Arc<str>,
    /// The connection's name (made unique within its probe).
    pub connection: Arc<str>,
    /// The probe's `site` label, or empty.
    pub site: Arc<str>,
}

/// A connection as the catalog holds it.
#[derive(Debug, Clone)]
pub struct CatalogConnection {
    /// Settings and state read at the last refresh.
    pub row: MetricsConnection,
    /// Its labels.
    pub labels: ConnectionLabels,
}

/// A probe as the catalog holds it.
#[derive(Debug, Clone)]
pub struct CatalogProbe {
    /// The probe.
    pub probe: Probe,
    /// Its name label (made unique).
    pub name: Arc<str>,
    /// Its `site` label, or empty.
    pub site: Arc<str>,
}

/// Probes and the connections `/metrics` exports: enabled connections of enabled probes.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Enabled probes, by name.
    pub probes: Vec<CatalogProbe>,
    /// Their enabled connections, by probe then name.
    pub connections: Vec<CatalogConnection>,
    /// Every connection id that exists (enabled or not).
    pub all_connections: Vec<ConnectionId>,
    /// The latest state of each enabled check and family of an enabled probe.
    pub checks: Vec<super::checks::CatalogCheck>,
    /// The state of each outage series of an enabled probe.
    pub outages: Vec<super::outages::CatalogOutage>,
    /// Ids of the probes in maintenance at the last refresh.
    pub maintenance: std::collections::HashSet<String>,
    /// Per probe id: its checks' newest rounds in the last 10 minutes (ran, failed).
    pub check_tallies: HashMap<String, (u32, u32)>,
}

/// The id's last 12 hex digits (random in both v4 and v7 UUIDs, whose first digits are a
/// timestamp).
fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(12)..).unwrap_or(id)
}

/// Label values must tell series apart: names that collide get ` [last 12 hex digits of the
/// id]` appended (all of the colliding ones, so the result does not depend on order).
fn unique_names<'a>(items: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Vec<Arc<str>> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (name, _) in items.clone() {
        *count.entry(name).or_default() += 1;
    }
    items
        .map(|(name, id)| {
            if count[name] > 1 {
                Arc::from(format!("{name} [{}]", short_id(id)))
            } else {
                Arc::from(name)
            }
        })
        .collect()
}

impl Catalog {
    /// From every probe and every connection row.
    pub fn build(probes: Vec<Probe>, connections: Vec<MetricsConnection>) -> Self {
        let all_connections = connections.iter().map(|c| c.id.clone()).collect();
        let mut probes: Vec<Probe> = probes.into_iter().filter(|p| p.enabled).collect();
        probes.sort_by(|a, b| {
            (a.name.as_str(), a.id.as_str()).cmp(&(b.name.as_str(), b.id.as_str()))
        });
        let names = unique_names(probes.iter().map(|p| (p.name.as_str(), p.id.as_str())));
        let probes: Vec<CatalogProbe> = probes
            .into_iter()
            .zip(names)
            .map(|(probe, name)| CatalogProbe {
                site: Arc::from(probe.labels.get("site").unwrap_or("")),
                name,
                probe,
            })
            .collect();
        let by_id: HashMap<&ProbeId, &CatalogProbe> =
            probes.iter().map(|p| (&p.probe.id, p)).collect();
        let mut exported: Vec<(MetricsConnection, &CatalogProbe)> = connections
            .into_iter()
            .filter(|c| c.enabled)
            .filter_map(|c| by_id.get(&c.probe_id).map(|p| (c, *p)))
            .collect();
        exported.sort_by(|(a, pa), (b, pb)| {
            (&pa.name, a.name.as_str(), a.id.as_str()).cmp(&(
                &pb.name,
                b.name.as_str(),
                b.id.as_str(),
            ))
        });
        // Connection names need only be unique within their probe label.
        let keyed: Vec<(String, &str)> = exported
            .iter()
            .map(|(c, p)| (format!("{}\u{0}{}", p.name, c.name), c.id.as_str()))
            .collect();
        let unique = unique_names(keyed.iter().map(|(k, id)| (k.as_str(), *id)));
        let connections = exported
            .iter()
            .zip(unique)
            .map(|((c, p), key)| CatalogConnection {
                labels: ConnectionLabels {
                    probe: p.name.clone(),
                    connection: Arc::from(key.split_once('\u{0}').map_or(&*key, |(_, n)| n)),
                    site: p.site.clone(),
                },
                row: c.clone(),
            })
            .collect();
        Self {
            probes,
            connections,
            all_connections,
            checks: Vec::new(),
            outages: Vec::new(),
            maintenance: std::collections::HashSet::new(),
            check_tallies: HashMap::new(),
        }
    }
}
