use super::*;
use crate::parse::test_support::{close, failure, fixture, raw};

#[test]
fn cli12_hannover() {
    let text = fixture("ookla", "cli1.2-json-pretty-de-hannover-anonymized.json");
    let obs = parse(&raw(Some(0), &text, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 931_564_032.0);
    close(obs.upload_bps, 49_451_800.0);
    assert_eq!(obs.download_bytes, Some(1_101_191_686));
    assert_eq!(obs.upload_bytes, Some(40_116_304));
    close(obs.ping_ms, 17.148);
    close(obs.ping_low_ms, 16.073);
    close(obs.ping_high_ms, 17.519);
    close(obs.jitter_ms, 0.629);
    close(obs.download_latency_ms, 180.912);
    close(obs.upload_latency_ms, 13.338);
    assert_eq!(obs.packet_loss_percent, Some(0.0));
    assert_eq!(obs.isp.as_deref(), Some("Some ISP"));
    assert_eq!(
        obs.server,
        ServerInfo {
            id: Some("60440".into()),
            name: Some("Jonas de Vries (Network-Test)".into()),
            location: Some("Hannover".into()),
            host: Some("speedtest.hannover.jonasdevries.de:8080".into()),
        }
    );
    assert_eq!(
        obs.result_url.as_deref(),
        Some("https://www.speedtest.net/result/c/something-something")
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_701_356_137))
    );
}

#[test]
fn cli12_upload_latency_spike() {
    let text = fixture(
        "ookla",
        "cli1.2-json-pretty-anonymized-upload-latency-spike.json",
    );
    let obs = parse(&raw(Some(0), &text, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 319_392_408.0);
    close(obs.upload_bps, 104_066_176.0);
    assert_eq!(obs.download_bytes, Some(306_775_755));
    assert_eq!(obs.upload_bytes, Some(134_520_546));
    close(obs.ping_ms, 12.280);
    close(obs.ping_low_ms, 12.192);
    close(obs.ping_high_ms, 12.837);
    close(obs.jitter_ms, 0.262);
    close(obs.download_latency_ms, 28.108);
    // The IQM, not the 471 ms spike.
    close(obs.upload_latency_ms, 19.651);
    assert_eq!(obs.packet_loss_percent, Some(0.0));
    assert_eq!(obs.isp.as_deref(), Some("Test ISP"));
    assert_eq!(obs.server.id.as_deref(), Some("52533"));
    assert_eq!(obs.server.name.as_deref(), Some("Virtual Machines"));
    assert_eq!(obs.server.location.as_deref(), Some("Zion"));
    assert_eq!(obs.server.host.as_deref(), Some("speedtest-lis.lan:8080"));
    assert_eq!(
        obs.result_url.as_deref(),
        Some("https://www.speedtest.net/result/c/8dfa2bdc-d6ea-4ac0-b041-5d0dc91b6b7c")
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_726_930_114))
    );
}

#[test]
fn cli12_docker() {
    let text = fixture(
        "ookla",
        "cli1.2-2022-docker-same-server-as-2020-sample.json",
    );
    let obs = parse(&raw(Some(0), &text, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 588_750_960.0);
    close(obs.upload_bps, 36_403_760.0);
    assert_eq!(obs.download_bytes, Some(561_306_538));
    assert_eq!(obs.upload_bytes, Some(27_235_440));
    close(obs.ping_ms, 13.814);
    close(obs.ping_low_ms, 9.838);
    close(obs.ping_high_ms, 17.448);
    close(obs.jitter_ms, 4.077);
    close(obs.download_latency_ms, 49.645);
    close(obs.upload_latency_ms, 13.94);
    assert_eq!(obs.packet_loss_percent, Some(0.0));
    assert_eq!(obs.isp.as_deref(), Some("Spectrum"));
    assert_eq!(
        obs.server,
        ServerInfo {
            id: Some("2408".into()),
            name: Some("Spectrum".into()),
            location: Some("Reno, NV".into()),
            host: Some("spt01renonv.reno.nv.charter.com:8080".into()),
        }
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_663_820_950))
    );
}

#[test]
fn cli10_without_low_high_and_loaded_latency() {
    let text = fixture(
        "ookla",
        "cli1.0-json-pretty-2020-no-low-high-no-persisted.json",
    );
    let obs = parse(&raw(Some(0), &text, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 261_718_464.0);
    close(obs.upload_bps, 37_628_320.0);
    assert_eq!(obs.download_bytes, Some(494_409_712));
    assert_eq!(obs.upload_bytes, Some(23_492_352));
    close(obs.ping_ms, 7.059);
    close(obs.jitter_ms, 4.293);
    assert_eq!(obs.ping_low_ms, None);
    assert_eq!(obs.ping_high_ms, None);
    assert_eq!(obs.download_latency_ms, None);
    assert_eq!(obs.upload_latency_ms, None);
    assert_eq!(obs.packet_loss_percent, Some(0.0));
    assert_eq!(obs.server.id.as_deref(), Some("2408"));
    assert_eq!(
        obs.server.host.as_deref(),
        Some("spt01renonv.reno.nv.charter.com:8080")
    );
    assert_eq!(
        obs.result_url.as_deref(),
        Some("https://www.speedtest.net/result/c/af93ff75-52a4-4d45-9097-e2ad712b3682")
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_601_527_386))
    );
}

#[test]
fn configuration_error_record() {
    let text = fixture(
        "ookla",
        "cli-error-json-pretty-configuration-hostnotfound.json",
    );
    let obs = parse(&raw(Some(2), &text, ""));
    assert_eq!(
        failure(&obs),
        (
            FailureClass::Configuration,
            "Configuration - Could not retrieve or read configuration (ConfigurationError)"
        )
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_666_377_778))
    );
    assert_eq!(obs.download_bps, None);
}

#[test]
fn configuration_error_with_its_dns_cause_on_stderr_is_network() {
    // The stderr lines the same run printed (from the fixture's source notes).
    let stderr = "[2022-10-21 18:42:53.411] [error] Trying to get interface information on non-initialized socket.\n\
        [2022-10-21 18:42:58.419] [error] Configuration - Couldn't resolve host name (HostNotFoundException)\n\
        [2022-10-21 18:42:58.419] [error] Configuration - Cannot retrieve configuration document (0)\n\
        [2022-10-21 18:42:58.425] [error] ConfigurationError - Could not retrieve or read configuration (Configuration)\n\
        [2022-10-21 18:42:58.425] [error] ConfigurationError - Could not retrieve or read configuration (Configuration)\n";
    let text = fixture(
        "ookla",
        "cli-error-json-pretty-configuration-hostnotfound.json",
    );
    let obs = parse(&raw(Some(2), &text, stderr));
    assert_eq!(
        failure(&obs),
        (
            FailureClass::Network,
            "Configuration - Couldn't resolve host name (HostNotFoundException)"
        )
    );
}

#[test]
fn bare_error_object() {
    let text = fixture("ookla", "cli1.2-error-bare-object-cannot-open-socket.json");
    let obs = parse(&raw(Some(2), &text, ""));
    assert_eq!(failure(&obs), (FailureClass::Network, "Cannot open socket"));
    assert_eq!(obs.server, ServerInfo::default());
}

#[test]
fn windows_socket_log_record() {
    let text = fixture("ookla", "cli1.0-windows-error-cannot-open-socket.json");
    let obs = parse(&raw(Some(1), &text, ""));
    assert_eq!(
        failure(&obs),
        (FailureClass::Network, "Error: [0] Cannot open socket:")
    );
    assert_eq!(
        obs.tool_timestamp,
        Some(Timestamp::from_unix_seconds(1_646_318_202))
    );
}

#[test]
fn licence_banner() {
    let text = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
    let obs = parse(&raw(Some(1), &text, ""));
    assert_eq!(
        failure(&obs),
        (
            FailureClass::Licence,
            "To accept the message please run speedtest interactively or use the following: speedtest --accept-license"
        )
    );
    // The same banner on stderr, exit status unknown.
    let obs = parse(&raw(None, "", &text));
    assert_eq!(failure(&obs).0, FailureClass::Licence);
}

#[test]
fn licence_banner_without_the_prompt() {
    let text = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
    let banner: String = text
        .lines()
        .take_while(|l| !l.contains("To accept"))
        .collect::<Vec<_>>()
        .join("\n");
    let obs = parse(&raw(Some(1), &banner, ""));
    assert_eq!(failure(&obs).0, FailureClass::Licence);
}

#[test]
fn result_after_the_banner_and_acceptance() {
    let banner = fixture("ookla", "cli-licence-not-accepted-noninteractive.txt");
    let result = fixture("ookla", "cli1.2-json-pretty-de-hannover-anonymized.json");
    let stdout = format!("{banner}\nLicense acceptance recorded. Continuing.\n\n{result}");
    let obs = parse(&raw(Some(0), &stdout, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 931_564_032.0);
    // Without the acceptance line (and without the prompt) it is still a result.
    let banner_only: String = banner
        .lines()
        .take_while(|l| !l.contains("To accept"))
        .collect::<Vec<_>>()
        .join("\n");
    let obs = parse(&raw(Some(0), &format!("{banner_only}\n{result}"), ""));
    assert!(obs.completed(), "{:?}", obs.failure);
}

#[test]
fn the_result_wins_over_errors_and_markers() {
    let result = fixture(
        "ookla",
        "cli1.2-json-pretty-anonymized-upload-latency-spike.json",
    );
    let compact: Value = serde_json::from_str(&result).unwrap();
    let stdout = format!(
        "{{\"type\":\"log\",\"timestamp\":\"2024-09-21T14:48:00Z\",\"message\":\"Cannot open socket\",\"level\":\"error\"}}\n{compact}\n"
    );
    let stderr = "[2024-09-21 14:48:00.000] [error] Cannot open socket\n{\"error\":\"boom\"}\nnetpulse-agent: timeout: too slow\n";
    let obs = parse(&raw(Some(2), &stdout, stderr));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.upload_bps, 104_066_176.0);
    assert_eq!(obs.server.id.as_deref(), Some("52533"));
}

#[test]
fn progress_records_are_skipped() {
    let stdout = concat!(
        "{\"type\":\"testStart\",\"isp\":\"X\"}\n",
        "{\"type\":\"ping\",\"ping\":{\"latency\":3.5}}\n",
        "{\"type\":\"result\",\"ping\":{\"latency\":4.25,\"jitter\":0.5},",
        "\"download\":{\"bandwidth\":1000},\"upload\":{\"bandwidth\":250.5},",
        "\"isp\":\"\",\"server\":{\"id\":\"7\",\"host\":\"h.example\"},",
        "\"timestamp\":\"not a time\"}\n",
    );
    let obs = parse(&raw(Some(0), stdout, ""));
    assert!(obs.completed(), "{:?}", obs.failure);
    close(obs.download_bps, 8000.0);
    close(obs.upload_bps, 2004.0);
    close(obs.ping_ms, 4.25);
    assert_eq!(
        obs.packet_loss_percent, None,
        "absent packetLoss is unknown"
    );
    assert_eq!(obs.download_bytes, None);
    assert_eq!(obs.isp, None, "empty text is unknown");
    assert_eq!(obs.server.id.as_deref(), Some("7"));
    assert_eq!(obs.server.host.as_deref(), Some("h.example"));
    assert_eq!(obs.tool_timestamp, None);
    assert_eq!(obs.result_url, None);
}

#[test]
fn packet_loss_is_kept_as_a_percentage() {
    let stdout = r#"{"type":"result","ping":{"latency":1},"download":{"bandwidth":1},"upload":{"bandwidth":1},"packetLoss":2.5}"#;
    close(parse(&raw(Some(0), stdout, "")).packet_loss_percent, 2.5);
}

#[test]
fn an_incomplete_result_is_invalid_output() {
    let stdout = r#"{"type":"result","ping":{"latency":"n/a"},"download":{"bandwidth":1},"isp":"DT","server":{"id":5}}"#;
    let obs = parse(&raw(Some(0), stdout, ""));
    let (class, message) = failure(&obs);
    assert_eq!(class, FailureClass::InvalidOutput);
    assert!(message.contains("upload.bandwidth"), "{message}");
    assert!(message.contains("ping.latency"), "{message}");
    assert!(!message.contains("download.bandwidth"), "{message}");
    assert_eq!(obs.isp.as_deref(), Some("DT"));
    assert_eq!(obs.server.id.as_deref(), Some("5"));
    assert_eq!(obs.download_bps, None);
    // A marker explains an incomplete result better.
    let obs = parse(&raw(None, stdout, "netpulse-agent: timeout: stopped"));
    assert_eq!(failure(&obs), (FailureClass::Timeout, "stopped"));
    // So does an error record.
    let obs = parse(&raw(Some(2), stdout, "{\"error\":\"Cannot open socket\"}"));
    assert_eq!(failure(&obs), (FailureClass::Network, "Cannot open socket"));
}

#[test]
fn error_records_keep_their_server() {
    let stdout = r#"{"type":"error","error":"boom","server":{"id":99,"host":"edge.example","port":5060},"isp":"DT"}"#;
    let obs = parse(&raw(Some(2), stdout, ""));
    assert_eq!(failure(&obs), (FailureClass::Other, "boom"));
    assert_eq!(obs.server.id.as_deref(), Some("99"));
    assert_eq!(obs.server.host.as_deref(), Some("edge.example:5060"));
    assert_eq!(obs.isp.as_deref(), Some("DT"));
}

#[test]
fn bracketed_lines_on_either_stream() {
    let line = "[2023-01-01 00:00:00.000] [error] Server Selection - Failed to find a working test server. (NoServers)";
    for (stdout, stderr) in [(line, ""), ("", line)] {
        let obs = parse(&raw(Some(2), stdout, stderr));
        assert_eq!(
            failure(&obs),
            (
                FailureClass::NoServers,
                "Server Selection - Failed to find a working test server. (NoServers)"
            )
        );
    }
    let info = "[2023-01-01 00:00:00.000] [info] Server Selection - all good";
    let obs = parse(&raw(Some(0), "", info));
    assert_eq!(failure(&obs).0, FailureClass::InvalidOutput);
}

#[test]
fn the_noise_line_alone_is_not_the_failure() {
    let noise = "[2022-10-21 18:42:53.411] [error] Trying to get interface information on non-initialized socket.";
    let obs = parse(&raw(Some(2), "", noise));
    let (class, message) = failure(&obs);
    assert_eq!(class, FailureClass::Other);
    assert!(message.contains("status 2"), "{message}");
}

#[test]
fn the_most_specific_error_wins() {
    let stderr = "[2023-01-01 00:00:00.000] [error] Cannot open socket\n\
                  [2023-01-01 00:00:01.000] [error] Server Selection - Failed to find a working test server. (NoServers)\n\
                  [2023-01-01 00:00:02.000] [error] Something else\n";
    let obs = parse(&raw(Some(2), "", stderr));
    assert_eq!(failure(&obs).0, FailureClass::NoServers);
}

#[test]
fn classification_table() {
    let cases = [
        (
            "Configuration - Could not retrieve or read configuration (ConfigurationError)",
            FailureClass::Configuration,
        ),
        (
            "ConfigurationError - Could not retrieve or read configuration (Configuration)",
            FailureClass::Configuration,
        ),
        (
            "Configuration - Cannot retrieve configuration document (0)",
            FailureClass::Configuration,
        ),
        (
            "Configuration - No servers defined (NoServersException)",
            FailureClass::NoServers,
        ),
        (
            "Server Selection - Failed to find a working test server. (NoServers)",
            FailureClass::NoServers,
        ),
        ("Server Selection - something new", FailureClass::NoServers),
        (
            "Configuration - Couldn't resolve host name (HostNotFoundException)",
            FailureClass::Network,
        ),
        ("Cannot open socket", FailureClass::Network),
        ("Error: [0] Cannot open socket: ", FailureClass::Network),
        (
            "Error: [110] Timeout occurred in connect.",
            FailureClass::Network,
        ),
        ("Network is unreachable", FailureClass::Network),
        (
            "To accept the message please run speedtest interactively or use the following: speedtest --accept-gdpr",
            FailureClass::Licence,
        ),
        ("Limit reached", FailureClass::Other),
        ("", FailureClass::Other),
    ];
    for (message, class) in cases {
        assert_eq!(classify_message(message), class, "{message:?}");
    }
}

#[test]
fn exit_statuses_without_output() {
    let obs = parse(&raw(Some(0), "", ""));
    assert_eq!(failure(&obs).0, FailureClass::InvalidOutput);
    let obs = parse(&raw(Some(2), "", "something broke\n"));
    assert_eq!(
        failure(&obs),
        (
            FailureClass::Other,
            "speedtest exited with status 2: something broke"
        )
    );
}
