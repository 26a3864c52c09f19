//! The `dns_detail` column of a DNS check result: one entry per resolver and record type,
//! `resolver|type|sent|succeeded|median_us`, joined by `;` (the median empty when nothing
//! succeeded). A short text rather than JSON keeps a result row narrow; `NULL` when there are
//! no figures (other kinds, results from older agents).

use netpulse_domain::check::RecordType;
use netpulse_domain::check::dns::ResolverFigure;
use netpulse_ports::storage::StorageError;

use crate::storage::rows::invalid;

/// The column's text for `figures`, `None` when there are none.
pub(crate) fn encode(figures: &[ResolverFigure]) -> Option<String> {
    if figures.is_empty() {
        return None;
    }
    let entries: Vec<String> = figures
        .iter()
        .map(|f| {
            let median = f
                .median_ms
                .map(|m| format!("{}", (m * 1000.0).round() as i64))
                .unwrap_or_default();
            format!(
                "{}|{}|{}|{}|{median}",
                f.resolver,
                f.record_type.as_str(),
                f.sent,
                f.succeeded
            )
        })
        .collect();
    Some(entries.join(";"))
}

/// The figures of a stored column.
pub(crate) fn decode(text: Option<&str>) -> Result<Vec<ResolverFigure>, StorageError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(';').map(entry).collect()
}

fn entry(text: &str) -> Result<ResolverFigure, StorageError> {
    let bad = || {
        invalid(
            "dns_detail",
            text,
            "is not resolver|type|sent|succeeded|median_us",
        )
    };
    let parts: Vec<&str> = text.split('|').collect();
    let [resolver, record_type, sent, succeeded, median] = parts[..] else {
        return Err(bad());
    };
    Ok(ResolverFigure {
        resolver: resolver.to_owned(),
        record_type: RecordType::parse(record_type).map_err(|_| bad())?,
        sent: sent.parse().map_err(|_| bad())?,
        succeeded: succeeded.parse().map_err(|_| bad())?,
        median_ms: if median.is_empty() {
            None
        } else {
            Some(median.parse::<i64>().map_err(|_| bad())? as f64 / 1000.0)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_round_trip_to_the_microsecond() {
        let figures = vec![
            ResolverFigure {
                resolver: "10.99.3.2".into(),
                record_type: RecordType::A,
                sent: 3,
                succeeded: 3,
                median_ms: Some(4.2107),
            },
            ResolverFigure {
                resolver: "fd99:3::2".into(),
                record_type: RecordType::Aaaa,
                sent: 3,
                succeeded: 0,
                median_ms: None,
            },
        ];
        let text = encode(&figures).unwrap();
        assert_eq!(text, "10.99.3.2|A|3|3|4211;fd99:3::2|AAAA|3|0|");
        let back = decode(Some(&text)).unwrap();
        assert_eq!(back[0].median_ms, Some(4.211));
        assert_eq!(back[1], figures[1]);
        assert_eq!(encode(&[]), None);
        assert!(decode(None).unwrap().is_empty());
        assert!(decode(Some("10.99.3.2|A|3")).is_err());
        assert!(decode(Some("10.99.3.2|MX|3|3|1")).is_err());
    }
}
