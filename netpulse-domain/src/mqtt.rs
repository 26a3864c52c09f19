//! The rules of the MQTT / Home Assistant integration's settings: the broker URL (`mqtt://` or
//! `mqtts://`), the client id, the user, the topic prefixes. Errors name the REST field.

use crate::error::InvalidValue;

/// The default topic prefix.
pub const DEFAULT_PREFIX: &str = "netpulse";
/// Home Assistant's default discovery prefix.
pub const DEFAULT_DISCOVERY_PREFIX: &str = "homeassistant";

/// A parsed broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `mqtts://` (TLS, the system's roots).
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// The port (1883, or 8883 with TLS, when the URL has none).
    pub port: u16,
}

/// Reads `mqtt://host[:port]` or `mqtts://host[:port]` (a trailing `/` is allowed; no user
/// info, path or query: the credentials have their own fields).
pub fn broker_url(text: &str) -> Result<BrokerUrl, InvalidValue> {
    let bad = |rule: &str| InvalidValue::new("brokerUrl", text, rule);
    let t = text.trim();
    let (tls, rest) = if let Some(r) = t.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = t.strip_prefix("mqtts://") {
        (true, r)
    } else {
        return Err(bad("must start with mqtt:// or mqtts://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
        return Err(bad(
            "must be mqtt://host[:port] or mqtts://host[:port] (credentials go in user and password)",
        ));
    }
    let default_port = if tls { 8883 } else { 1883 };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("has an unclosed [ in its host"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(bad("has text after its host")),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.len() > 253 {
        return Err(bad("must name a host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad("must have a port 1–65535")),
        },
    };
    Ok(BrokerUrl {
        tls,
        host: host.to_owned(),
        port,
    })
}

/// A client id: 1–64 characters of letters, digits, `-`, `_`, `.` (blank: `netpulse-` and the
/// given fallback).
pub fn client_id(text: &str, fallback: &str) -> Result<String, InvalidValue> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(format!("netpulse-{fallback}"));
    }
    if t.chars().count() > 64
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(InvalidValue::new(
            "clientId",
            t,
            "must be 1–64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(t.to_owned())
}

/// A user name: at most 200 characters, no control characters (blank: no credentials).
pub fn user(text: &str) -> Result<Option<String>, InvalidValue> {
    let t = text.trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "user",
            t,
            "must be at most 200 characters without control characters",
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// A password: at most 500 characters, no control characters.
pub fn password(text: &str) -> Result<String, InvalidValue> {
    if text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "password",
            "…",
            "must be at most 500 characters without control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A topic prefix: 1–100 characters, levels separated by `/`, none empty, no wildcards
/// (`+`, `#`), no `$` at the start, no control characters; blank gives `default`.
pub fn topic_prefix(
    field: &'static str,
    text: &str,
    default: &str,
) -> Result<String, InvalidValue> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(default.to_owned());
    }
    let bad = |rule: &str| InvalidValue::new(field, t, rule);
    if t.chars().count() > 100 {
        return Err(bad("must be at most 100 characters"));
    }
    if t.contains(['+', '#']) || t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(
            "must not contain the wildcards + or #, spaces or control characters",
        ));
    }
    if t.starts_with('$') {
        return Err(bad("must not start with $ (reserved by brokers)"));
    }
    if t.split('/').any(str::is_empty) {
        return Err(bad(
            "must not have empty levels (a leading, trailing or double /)",
        ));
    }
    Ok(t.to_owned())
}

/// Bits per second as Mbit/s with 2 decimals (what the MQTT payloads carry).
pub fn mbps(bits_per_second: f64) -> f64 {
    (bits_per_second / 10_000.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            broker_url("mqtt://broker.lan").unwrap(),
            BrokerUrl {
                tls: false,
                host: "broker.lan".into(),
                port: 1883
            }
        );
        assert_eq!(
            broker_url(" mqtts://10.0.0.2:8884/ ").unwrap(),
            BrokerUrl {
                tls: true,
                host: "10.0.0.2".into(),
                port: 8884
            }
        );
        assert_eq!(broker_url("mqtt://[::1]:1884").unwrap().host, "::1");
        assert_eq!(broker_url("mqtts://[fd00::2]").unwrap().port, 8883);
        for bad in [
            "http://x",
            "broker:1883",
            "mqtt://",
            "mqtt://u:p@h",
            "mqtt://h:0",
            "mqtt://h:70000",
            "mqtt://h:x",
            "mqtt://h/topic",
            "mqtt://[::1",
        ] {
            let e = broker_url(bad).unwrap_err();
            assert_eq!(e.field, "brokerUrl", "{bad}");
        }
    }

    #[test]
    fn prefixes_client_ids_and_users() {
        assert_eq!(
            topic_prefix("topicPrefix", " ", "netpulse").unwrap(),
            "netpulse"
        );
        assert_eq!(
            topic_prefix("topicPrefix", "home/np", "x").unwrap(),
            "home/np"
        );
        for bad in ["a/+/b", "a/#", "$SYS", "/a", "a/", "a//b", "a b"] {
            assert_eq!(
                topic_prefix("discoveryPrefix", bad, "x").unwrap_err().field,
                "discoveryPrefix"
            );
        }
        assert_eq!(client_id("", "abc").unwrap(), "netpulse-abc");
        assert_eq!(client_id("np-1.home", "abc").unwrap(), "np-1.home");
        assert_eq!(client_id("a b", "x").unwrap_err().field, "clientId");
        assert_eq!(
            client_id(&"x".repeat(65), "x").unwrap_err().field,
            "clientId"
        );
        assert_eq!(user(" ").unwrap(), None);
        assert_eq!(user("u\u{7}x").unwrap_err().field, "user");
        assert_eq!(password("a\u{0}").unwrap_err().field, "password");
        assert!((mbps(912_345_678.0) - 912.35).abs() < 1e-9);
    }
}
