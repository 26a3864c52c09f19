//! The HTTP engine's settings.

use std::time::Duration;

/// The largest request size: 1 GiB (what the netpulse target serves at most per request).
pub const MAX_REQUEST_BYTES: u64 = 1 << 30;

/// Settings of the HTTP engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEngineConfig {
    /// Parallel streams (connections) for download and upload (default 4).
    pub streams: usize,
    /// Length of each of the download and upload phases, warm-up included (default 10 s).
    pub duration: Duration,
    /// The start of each phase that is not counted (default 2 s); must be shorter than
    /// [`duration`](Self::duration).
    pub warmup: Duration,
    /// Timed idle pings (default 10).
    pub ping_samples: usize,
    /// Pause between loaded-latency pings (default 250 ms).
    pub loaded_ping_interval: Duration,
    /// Bytes asked for per download request (default 25 MiB, at most 1 GiB).
    pub download_request_bytes: u64,
    /// Bytes sent per upload request (default 8 MiB, at most 1 GiB).
    pub upload_request_bytes: u64,
    /// Connect timeout, and the timeout of each ping (default 10 s).
    pub request_timeout: Duration,
}

impl Default for HttpEngineConfig {
    fn default() -> Self {
        Self {
            streams: 4,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            ping_samples: 10,
            loaded_ping_interval: Duration::from_millis(250),
            download_request_bytes: 25 << 20,
            upload_request_bytes: 8 << 20,
            request_timeout: Duration::from_secs(10),
        }
    }
}

impl HttpEngineConfig {
    /// Checks the settings; the error message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.streams == 0 || self.streams > 64 {
            return Err(format!("streams must be 1 to 64, not {}", self.streams));
        }
        if self.warmup >= self.duration {
            return Err(format!(
                "the warm-up ({:?}) must be shorter than the phase ({:?})",
                self.warmup, self.duration
            ));
        }
        if self.ping_samples == 0 {
            return Err("ping_samples must be at least 1".to_owned());
        }
        for (name, bytes) in [
            ("download_request_bytes", self.download_request_bytes),
            ("upload_request_bytes", self.upload_request_bytes),
        ] {
            if bytes == 0 || bytes > MAX_REQUEST_BYTES {
                return Err(format!(
                    "{name} must be 1 to {MAX_REQUEST_BYTES}, not {bytes}"
                ));
            }
        }
        if self.request_timeout.is_zero() || self.loaded_ping_interval.is_zero() {
            return Err("request_timeout and loaded_ping_interval must not be zero".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated() {
        assert!(HttpEngineConfig::default().validate().is_ok());
        let bad = [
            HttpEngineConfig {
                streams: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                warmup: Duration::from_secs(10),
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                ping_samples: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                upload_request_bytes: 0,
                ..HttpEngineConfig::default()
            },
            HttpEngineConfig {
                download_request_bytes: MAX_REQUEST_BYTES + 1,
                ..HttpEngineConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}
