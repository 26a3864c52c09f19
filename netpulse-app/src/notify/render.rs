//! The words of each notification: a subject line and a plain-text body, rendered once and
//! sent through every channel. Figures are in Mbps and ms; unknown figures say so.

use netpulse_domain::Timestamp;
use netpulse_domain::model::{Connection, Measurement, Probe};
use netpulse_domain::notify::{ConnectionSummary, DigestPeriod};
use netpulse_ports::notify::{
    ConnectionRef, Notification, NotificationKind, ProbeRef, ResultSummary,
};

fn mbps(bps: Option<f64>) -> String {
    bps.map_or_else(|| "unknown".to_owned(), |b| format!("{:.1} Mbps", b / 1e6))
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.1} ms"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.2} %"))
}

/// A duration for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn summary(m: &Measurement) -> ResultSummary {
    let o = &m.observation;
    ResultSummary {
        id: m.id.to_string(),
        status: if o.completed() { "completed" } else { "failed" }.to_owned(),
        healthy: m.verdict.healthy(),
        breaches: m
            .verdict
            .breaches
            .iter()
            .map(|b| b.as_str().to_owned())
            .collect(),
        download_bps: o.download_bps,
        upload_bps: o.upload_bps,
        ping_ms: o.ping_ms,
        jitter_ms: o.jitter_ms,
        packet_loss_percent: o.packet_loss_percent,
        failure: o
            .failure
            .as_ref()
            .map(|f| format!("{}: {}", f.class.as_str(), f.message)),
        completed_at: m.completed_at,
    }
}

#[allow(clippy::single_match_else)]
fn result_lines(m: &Measurement) -> String {
    let o = &m.observation;
    let mut out = format!("Latest result ({}):\n", m.completed_at.to_rfc3339());
    match &o.failure {
        Some(f) => out.push_str(&format!(
            "- the test failed ({}: {})\n",
            f.class.as_str(),
            f.message
        )),
        None => {
            let breaches: Vec<&str> = m.verdict.breaches.iter().map(|b| b.as_str()).collect();
            if !breaches.is_empty() {
                out.push_str(&format!("- breaches: {}\n", breaches.join(", ")));
            }
            out.push_str(&format!(
                "- download: {}\n- upload: {}\n- ping: {}\n- jitter: {}\n- packet loss: {}\n",
                mbps(o.download_bps),
                mbps(o.upload_bps),
                ms(o.ping_ms),
                ms(o.jitter_ms),
                percent(o.packet_loss_percent)
            ));
        }
    }
    out
}

/// The link to a result in the dashboard, when the public URL is known.
pub fn result_link(public_url: Option<&str>, m: &Measurement) -> Option<String> {
    public_url.map(|base| format!("{}/measurements/{}", base.trim_end_matches('/'), m.id))
}

fn with_context(
    mut n: Notification,
    probe: &Probe,
    connection: &Connection,
    m: Option<&Measurement>,
    public_url: Option<&str>,
) -> Notification {
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n.connection = Some(ConnectionRef {
        id: connection.id.to_string(),
        name: connection.name.to_string(),
        isp: connection.isp.clone(),
    });
    if let Some(m) = m {
        n.result = Some(summary(m));
        n.result_link = result_link(public_url, m);
        n.share_link.clone_from(&m.observation.result_url);
    }
    n
}

/// A link went bad.
pub fn alert(
    probe: &Probe,
    connection: &Connection,
    m: &Measurement,
    consecutive: u32,
    now: Timestamp,
    public_url: Option<&str>,
) -> Notification {
    let subject = format!("[NetPulse] {}/{} is unhealthy", probe.name, connection.name);
    let body = format!(
        "Connection \"{}\" on probe \"{}\" is unhealthy: {consecutive} consecutive unhealthy results.\n\n{}",
        connection.name,
        probe.name,
        result_lines(m)
    );
    with_context(
        Notification::new(NotificationKind::Alert, subject, body, now),
        probe,
        connection,
        Some(m),
        public_url,
    )
}

/// An alert that was held back (maintenance window, notifications off) and is still open.
pub fn late_alert(
    probe: &Probe,
    connection: &Connection,
    m: Option<&Measurement>,
    since: Timestamp,
    now: Timestamp,
    public_url: Option<&str>,
) -> Notification {
    let subject = format!("[NetPulse] {}/{} is unhealthy", probe.name, connection.name);
    let mut body = format!(
        "Connection \"{}\" on probe \"{}\" has been unhealthy since {} ({}). The alert was held back \
         by a maintenance window or while notifications were off, and the link is still unhealthy.\n",
        connection.name,
        probe.name,
        since.to_rfc3339(),
        duration(now.seconds_since(since))
    );
    if let Some(m) = m {
        body.push('\n');
        body.push_str(&result_lines(m));
    }
    with_context(
        Notification::new(NotificationKind::Alert, subject, body, now),
        probe,
        connection,
        m,
        public_url,
    )
}

/// A reminder of an open incident nobody acknowledged yet.
pub fn reminder(
    probe: &Probe,
    connection: &Connection,
    incident_id: &str,
    since: Timestamp,
    now: Timestamp,
    public_url: Option<&str>,
) -> Notification {
    let subject = format!(
        "[NetPulse] Reminder: {}/{} is still unhealthy",
        probe.name, connection.name
    );
    let body = format!(
        "Connection \"{}\" on probe \"{}\" has been unhealthy since {} ({}) and nobody has \
         acknowledged it yet. Acknowledge it on the dashboard or with \
         POST /api/v1/incidents/{incident_id}/ack to stop these reminders.\n",
        connection.name,
        probe.name,
        since.to_rfc3339(),
        duration(now.seconds_since(since))
    );
    with_context(
        Notification::new(NotificationKind::Alert, subject, body, now),
        probe,
        connection,
        None,
        public_url,
    )
}

/// A link is back.
pub fn recovery(
    probe: &Probe,
    connection: &Connection,
    m: &Measurement,
    consecutive: u32,
    unhealthy_since: Option<Timestamp>,
    now: Timestamp,
    public_url: Option<&str>,
) -> Notification {
    let subject = format!("[NetPulse] {}/{} recovered", probe.name, connection.name);
    let outage = unhealthy_since.map_or_else(String::new, |since| {
        format!(
            " It was unhealthy for {} (since {}).",
            duration(m.completed_at.seconds_since(since)),
            since.to_rfc3339()
        )
    });
    let body = format!(
        "Connection \"{}\" on probe \"{}\" recovered after {consecutive} healthy result{}.{outage}\n\n{}",
        connection.name,
        probe.name,
        if consecutive == 1 { "" } else { "s" },
        result_lines(m)
    );
    with_context(
        Notification::new(NotificationKind::Recovery, subject, body, now),
        probe,
        connection,
        Some(m),
        public_url,
    )
}

fn probe_only(mut n: Notification, probe: &Probe) -> Notification {
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n
}

/// A probe stopped polling.
pub fn probe_offline(
    probe: &Probe,
    last_poll: Timestamp,
    limit_seconds: i64,
    now: Timestamp,
) -> Notification {
    let subject = format!("[NetPulse] probe {} is offline", probe.name);
    let body = format!(
        "Probe \"{}\" has not polled for {} (last poll {}; a probe is offline after {} without a poll). \
         Its connections are not being tested.",
        probe.name,
        duration(now.seconds_since(last_poll)),
        last_poll.to_rfc3339(),
        duration(limit_seconds)
    );
    probe_only(
        Notification::new(NotificationKind::ProbeOffline, subject, body, now),
        probe,
    )
}

/// A probe polls again.
pub fn probe_back(probe: &Probe, offline_since: Option<Timestamp>, now: Timestamp) -> Notification {
    let subject = format!("[NetPulse] probe {} is back", probe.name);
    let since = offline_since.map_or_else(String::new, |s| {
        format!(" It was reported offline at {}.", s.to_rfc3339())
    });
    let body = format!("Probe \"{}\" polls again.{since}", probe.name);
    probe_only(
        Notification::new(NotificationKind::ProbeBack, subject, body, now),
        probe,
    )
}

/// One connection's line of a digest.
#[derive(Debug, Clone)]
pub struct DigestLine {
    /// The probe's name.
    pub probe: String,
    /// The connection's name.
    pub connection: String,
    /// Its figures.
    pub summary: ConnectionSummary,
}

/// A periodic summary over `[from, until)`.
pub fn digest(
    period: DigestPeriod,
    lines: &[DigestLine],
    from: Timestamp,
    until: Timestamp,
    now: Timestamp,
) -> Notification {
    let n = lines.len();
    let plural = if n == 1 { "connection" } else { "connections" };
    let subject = format!("[NetPulse] {} digest — {n} {plural}", period.as_str());
    let mut body = format!(
        "NetPulse {} digest for {n} {plural}, {} to {}:\n\n",
        period.as_str(),
        from.to_rfc3339(),
        until.to_rfc3339()
    );
    for l in lines {
        let s = &l.summary;
        body.push_str(&format!(
            "- {}/{}: down {} (p5 {}), up {} (p5 {}), ping {} (p95 {}), loss {}, uptime {} ({} tests, {} failures), {} incident{}{}\n",
            l.probe,
            l.connection,
            mbps(s.download_mean_bps),
            mbps(s.download_p5_bps),
            mbps(s.upload_mean_bps),
            mbps(s.upload_p5_bps),
            ms(s.ping_mean_ms),
            ms(s.ping_p95_ms),
            percent(s.packet_loss_mean_percent),
            s.uptime_percent.map_or_else(|| "unknown".to_owned(), |u| format!("{u:.1} %")),
            s.tests,
            s.failures,
            s.incidents,
            if s.incidents == 1 { "" } else { "s" },
            if s.incident_seconds > 0 {
                format!(" ({} unhealthy)", duration(s.incident_seconds))
            } else {
                String::new()
            }
        ));
    }
    Notification::new(NotificationKind::Digest, subject, body, now)
}

/// The test message of a channel.
pub fn test(channel_name: &str, now: Timestamp) -> Notification {
    Notification::new(
        NotificationKind::Test,
        "NetPulse test notification",
        format!(
            "This is a test message from NetPulse for the channel \"{channel_name}\". If you can read it, \
             the channel works."
        ),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(-5), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3 * 3600 + 300), "3 h 5 min");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }

    #[test]
    fn digest_lines_name_every_figure() {
        let t = Timestamp::from_unix_seconds(1_780_747_200);
        let line = DigestLine {
            probe: "home".into(),
            connection: "wan1".into(),
            summary: ConnectionSummary {
                tests: 20,
                failures: 2,
                healthy: 18,
                download_mean_bps: Some(250e6),
                download_p5_bps: Some(200e6),
                upload_mean_bps: Some(50e6),
                upload_p5_bps: Some(40e6),
                ping_mean_ms: Some(12.34),
                ping_p95_ms: Some(20.0),
                packet_loss_mean_percent: None,
                uptime_percent: Some(90.0),
                incidents: 1,
                incident_seconds: 2100,
            },
        };
        let n = digest(DigestPeriod::Daily, &[line], t.plus_seconds(-86_400), t, t);
        assert_eq!(n.subject, "[NetPulse] daily digest — 1 connection");
        assert!(n.body.contains(
            "- home/wan1: down 250.0 Mbps (p5 200.0 Mbps), up 50.0 Mbps (p5 40.0 Mbps), ping 12.3 ms \
             (p95 20.0 ms), loss unknown, uptime 90.0 % (20 tests, 2 failures), 1 incident (35 min unhealthy)"
        ), "{}", n.body);
        assert_eq!(n.kind, NotificationKind::Digest);
    }
}
