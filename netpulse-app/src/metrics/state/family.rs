//! The families of the exporter: names, kinds and help texts, in a fixed order.

/// Every family of the exporter, in a fixed order (the index into [`Frame::series`](super::Frame::series)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `netpulse_build_info`
    BuildInfo,
    /// `netpulse_connection_info`
    ConnectionInfo,
    /// `netpulse_up`
    Up,
    /// `netpulse_last_result_timestamp_seconds`
    LastResultTimestamp,
    /// `netpulse_download_bits_per_second`
    Download,
    /// `netpulse_upload_bits_per_second`
    Upload,
    /// `netpulse_ping_seconds`
    Ping,
    /// `netpulse_jitter_seconds`
    Jitter,
    /// `netpulse_packet_loss_ratio`
    PacketLoss,
    /// `netpulse_download_latency_iqm_seconds`
    DownloadLatency,
    /// `netpulse_upload_latency_iqm_seconds`
    UploadLatency,
    /// `netpulse_data_used_bytes`
    DataUsed,
    /// `netpulse_connection_healthy`
    Healthy,
    /// `netpulse_connection_degraded`
    Degraded,
    /// `netpulse_connection_expected_download_bits_per_second`
    ExpectedDownload,
    /// `netpulse_connection_expected_upload_bits_per_second`
    ExpectedUpload,
    /// `netpulse_speedtest_runs_total`
    Runs,
    /// `netpulse_speedtest_failures_total`
    Failures,
    /// `netpulse_speedtest_unhealthy_total`
    Unhealthy,
    /// `netpulse_remote_write_failures_total`
    RemoteWriteFailures,
    /// `netpulse_remote_write_sent_total`
    RemoteWriteSent,
    /// `netpulse_remote_write_dropped_total`
    RemoteWriteDropped,
    /// `netpulse_remote_write_queue_length`
    RemoteWriteQueue,
    /// `netpulse_mqtt_connected`
    MqttConnected,
    /// `netpulse_mqtt_messages_dropped_total`
    MqttDropped,
    /// `netpulse_mqtt_connection_failures_total`
    MqttConnectionFailures,
    /// `netpulse_notifications_sent_total`
    Notifications,
    /// `netpulse_probe_up`
    ProbeUp,
    /// `netpulse_probe_last_poll_timestamp_seconds`
    ProbeLastPoll,
    /// `netpulse_agent_info`
    AgentInfo,
    /// `netpulse_engine_runs_total`
    EngineRuns,
    /// `netpulse_engine_last_result_timestamp_seconds`
    EngineLastResult,
    /// `netpulse_engine_download_bits_per_second`
    EngineDownload,
    /// `netpulse_engine_upload_bits_per_second`
    EngineUpload,
    /// `netpulse_engine_ping_seconds`
    EnginePing,
    /// `netpulse_engine_jitter_seconds`
    EngineJitter,
    /// `netpulse_engine_packet_loss_ratio`
    EnginePacketLoss,
    /// `netpulse_check_up`
    CheckUp,
    /// `netpulse_check_latency_seconds`
    CheckLatency,
    /// `netpulse_check_packet_loss_ratio`
    CheckPacketLoss,
    /// `netpulse_check_runs_total`
    CheckRuns,
    /// `netpulse_probe_state`
    ProbeState,
    /// `netpulse_outage_active`
    OutageActive,
    /// `netpulse_outages_total`
    Outages,
    /// `netpulse_outage_seconds_total`
    OutageSeconds,
}

/// Gauge or counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count of events since the process started (or since the stored history began).
    Counter,
}

impl Family {
    /// Every family.
    pub const ALL: [Self; 45] = [
        Self::BuildInfo,
        Self::ConnectionInfo,
        Self::Up,
        Self::LastResultTimestamp,
        Self::Download,
        Self::Upload,
        Self::Ping,
        Self::Jitter,
        Self::PacketLoss,
        Self::DownloadLatency,
        Self::UploadLatency,
        Self::DataUsed,
        Self::Healthy,
        Self::Degraded,
        Self::ExpectedDownload,
        Self::ExpectedUpload,
        Self::Runs,
        Self::Failures,
        Self::Unhealthy,
        Self::RemoteWriteFailures,
        Self::RemoteWriteSent,
        Self::RemoteWriteDropped,
        Self::RemoteWriteQueue,
        Self::MqttConnected,
        Self::MqttDropped,
        Self::MqttConnectionFailures,
        Self::Notifications,
        Self::ProbeUp,
        Self::ProbeLastPoll,
        Self::AgentInfo,
        Self::EngineRuns,
        Self::EngineLastResult,
        Self::EngineDownload,
        Self::EngineUpload,
        Self::EnginePing,
        Self::EngineJitter,
        Self::EnginePacketLoss,
        Self::CheckUp,
        Self::CheckLatency,
        Self::CheckPacketLoss,
        Self::CheckRuns,
        Self::ProbeState,
        Self::OutageActive,
        Self::Outages,
        Self::OutageSeconds,
    ];

    /// The exposed name (counters end in `_total`), its kind and help text.
    pub const fn describe(self) -> (&'static str, Kind, &'static str) {
        use Kind::{Counter, Gauge};
        match self {
            Self::BuildInfo => (
                "netpulse_build_info",
                Gauge,
                "Build information of the NetPulse exporter.",
            ),
            Self::ConnectionInfo => (
                "netpulse_connection_info",
                Gauge,
                "Static information about a monitored connection.",
            ),
            Self::Up => (
                "netpulse_up",
                Gauge,
                "Whether the connection has a fresh successful measurement within the freshness window.",
            ),
            Self::LastResultTimestamp => (
                "netpulse_last_result_timestamp_seconds",
                Gauge,
                "Unix timestamp of the last successful measurement.",
            ),
            Self::Download => (
                "netpulse_download_bits_per_second",
                Gauge,
                "Last measured download throughput in bits per second.",
            ),
            Self::Upload => (
                "netpulse_upload_bits_per_second",
                Gauge,
                "Last measured upload throughput in bits per second.",
            ),
            Self::Ping => (
                "netpulse_ping_seconds",
                Gauge,
                "Last measured idle latency in seconds.",
            ),
            Self::Jitter => (
                "netpulse_jitter_seconds",
                Gauge,
                "Last measured idle jitter in seconds.",
            ),
            Self::PacketLoss => (
                "netpulse_packet_loss_ratio",
                Gauge,
                "Last measured packet loss as a ratio between 0 and 1.",
            ),
            Self::DownloadLatency => (
                "netpulse_download_latency_iqm_seconds",
                Gauge,
                "Last measured loaded download latency (IQM) in seconds.",
            ),
            Self::UploadLatency => (
                "netpulse_upload_latency_iqm_seconds",
                Gauge,
                "Last measured loaded upload latency (IQM) in seconds.",
            ),
            Self::DataUsed => (
                "netpulse_data_used_bytes",
                Gauge,
                "Bytes transferred during the last measurement.",
            ),
            Self::Healthy => (
                "netpulse_connection_healthy",
                Gauge,
                "Whether the latest measurement passed the connection's health thresholds (1 healthy, 0 unhealthy).",
            ),
            Self::Degraded => (
                "netpulse_connection_degraded",
                Gauge,
                "Whether the connection is currently degraded per the adaptive scheduling predicate (1 degraded, 0 healthy).",
            ),
            Self::ExpectedDownload => (
                "netpulse_connection_expected_download_bits_per_second",
                Gauge,
                "Configured expected download speed in bits per second.",
            ),
            Self::ExpectedUpload => (
                "netpulse_connection_expected_upload_bits_per_second",
                Gauge,
                "Configured expected upload speed in bits per second.",
            ),
            Self::Runs => (
                "netpulse_speedtest_runs_total",
                Counter,
                "Total number of speedtest runs by status.",
            ),
            Self::Failures => (
                "netpulse_speedtest_failures_total",
                Counter,
                "Total number of failed speedtest runs.",
            ),
            Self::Unhealthy => (
                "netpulse_speedtest_unhealthy_total",
                Counter,
                "Total number of completed speedtest runs that breached the connection's health thresholds.",
            ),
            Self::RemoteWriteFailures => (
                "netpulse_remote_write_failures_total",
                Counter,
                "Total number of failed remote-write push attempts.",
            ),
            Self::RemoteWriteSent => (
                "netpulse_remote_write_sent_total",
                Counter,
                "Total number of remote-write requests the receiver accepted.",
            ),
            Self::RemoteWriteDropped => (
                "netpulse_remote_write_dropped_total",
                Counter,
                "Total number of remote-write requests given up, by reason.",
            ),
            Self::RemoteWriteQueue => (
                "netpulse_remote_write_queue_length",
                Gauge,
                "Remote-write requests waiting to be delivered.",
            ),
            Self::MqttConnected => (
                "netpulse_mqtt_connected",
                Gauge,
                "Whether the MQTT publisher has connected to its broker (1) or not yet (0).",
            ),
            Self::MqttDropped => (
                "netpulse_mqtt_messages_dropped_total",
                Counter,
                "Total number of MQTT messages dropped because the queue was full (broker down or slow).",
            ),
            Self::MqttConnectionFailures => (
                "netpulse_mqtt_connection_failures_total",
                Counter,
                "Total number of failed MQTT connection attempts and lost connections.",
            ),
            Self::Notifications => (
                "netpulse_notifications_sent_total",
                Counter,
                "Total number of notification sends by kind, channel, and outcome status.",
            ),
            Self::ProbeUp => (
                "netpulse_probe_up",
                Gauge,
                "Whether the probe's agent polled for work recently (1 polling, 0 silent).",
            ),
            Self::ProbeLastPoll => (
                "netpulse_probe_last_poll_timestamp_seconds",
                Gauge,
                "Unix timestamp of the probe agent's last recorded poll.",
            ),
            Self::AgentInfo => (
                "netpulse_agent_info",
                Gauge,
                "Version and engines the probe's agent reported with its last poll.",
            ),
            Self::EngineRuns => (
                "netpulse_engine_runs_total",
                Counter,
                "Total number of speedtest runs by engine and status.",
            ),
            Self::EngineLastResult => (
                "netpulse_engine_last_result_timestamp_seconds",
                Gauge,
                "Unix timestamp of the last successful measurement by engine.",
            ),
            Self::EngineDownload => (
                "netpulse_engine_download_bits_per_second",
                Gauge,
                "Last measured download throughput by engine in bits per second.",
            ),
            Self::EngineUpload => (
                "netpulse_engine_upload_bits_per_second",
                Gauge,
                "Last measured upload throughput by engine in bits per second.",
            ),
            Self::EnginePing => (
                "netpulse_engine_ping_seconds",
                Gauge,
                "Last measured idle latency by engine in seconds.",
            ),
            Self::EngineJitter => (
                "netpulse_engine_jitter_seconds",
                Gauge,
                "Last measured idle jitter by engine in seconds.",
            ),
            Self::EnginePacketLoss => (
                "netpulse_engine_packet_loss_ratio",
                Gauge,
                "Last measured packet loss by engine as a ratio between 0 and 1.",
            ),
            Self::CheckUp => (
                "netpulse_check_up",
                Gauge,
                "Whether the check's latest round for the family succeeded and is fresh (1 up, 0 failed or stale).",
            ),
            Self::CheckLatency => (
                "netpulse_check_latency_seconds",
                Gauge,
                "Latency of the check's latest round for the family in seconds (ICMP median RTT, HTTP total, DNS median, TCP connect, UDP RTT).",
            ),
            Self::CheckPacketLoss => (
                "netpulse_check_packet_loss_ratio",
                Gauge,
                "ICMP packet loss of the check's latest round for the family as a ratio between 0 and 1.",
            ),
            Self::CheckRuns => (
                "netpulse_check_runs_total",
                Counter,
                "Total number of stored check results by family and outcome.",
            ),
            Self::ProbeState => (
                "netpulse_probe_state",
                Gauge,
                "The probe's agent state: 1 for its state (ONLINE, DEGRADED, OFFLINE, MAINTENANCE), 0 for the others.",
            ),
            Self::OutageActive => (
                "netpulse_outage_active",
                Gauge,
                "1 while an outage episode of the probe and family (v4, v6, all) is open, else 0.",
            ),
            Self::Outages => (
                "netpulse_outages_total",
                Counter,
                "Total number of outage episodes of the probe and family announced opened.",
            ),
            Self::OutageSeconds => (
                "netpulse_outage_seconds_total",
                Counter,
                "Total time in outage rounds of the probe and family, seconds: complete (every check failed) or partial.",
            ),
        }
    }

    /// The exposed name.
    pub const fn name(self) -> &'static str {
        self.describe().0
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}
