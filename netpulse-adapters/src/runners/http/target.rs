//! A pool entry of the HTTP engine: its base URL and server flavour.

use reqwest::Url;

use crate::parse::http::HttpFlavour;

/// A parsed base URL with its flavour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    base: Url,
    flavour: HttpFlavour,
}

impl HttpTarget {
    /// Parses a pool entry (see the [module documentation](crate::runners::http) for the rules).
    pub fn parse(entry: &str) -> Result<Self, String> {
        let mut url = Url::parse(entry).map_err(|e| format!("{entry} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{entry}: only http:// and https:// are supported"));
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return Err(format!("{entry}: the URL has no host"));
        };
        if url.fragment().is_some() {
            return Err(format!("{entry}: the URL must not have a fragment"));
        }
        let mut chosen = None;
        for (key, value) in url.query_pairs() {
            if key != "flavour" {
                return Err(format!(
                    "{entry}: unknown query parameter {key:?} (only flavour is allowed)"
                ));
            }
            if chosen.is_some() {
                return Err(format!("{entry}: flavour is given twice"));
            }
            chosen = Some(match value.as_ref() {
                "netpulse" => HttpFlavour::Netpulse,
                "librespeed" => HttpFlavour::Librespeed,
                "cloudflare" => HttpFlavour::Cloudflare,
                other => {
                    return Err(format!(
                        "{entry}: unknown flavour {other:?} (netpulse, librespeed or cloudflare)"
                    ));
                }
            });
        }
        url.set_query(None);
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        let flavour = chosen.unwrap_or(if host == "speed.cloudflare.com" {
            HttpFlavour::Cloudflare
        } else if path.ends_with("/backend") {
            HttpFlavour::Librespeed
        } else {
            HttpFlavour::Netpulse
        });
        Ok(Self { base: url, flavour })
    }

    /// The flavour.
    pub fn flavour(&self) -> HttpFlavour {
        self.flavour
    }

    /// The base URL for reports, with any password replaced by `***`.
    pub fn display(&self) -> String {
        let mut shown = self.base.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }

    fn endpoint(&self, path: &str, query: Option<&str>) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(query);
        url
    }

    /// The URL pings go to.
    pub fn ping_url(&self) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => self.endpoint("speedtest/ping", None),
            HttpFlavour::Librespeed => self.endpoint("empty.php", None),
            HttpFlavour::Cloudflare => self.endpoint("__down", Some("bytes=0")),
        }
    }

    /// The URL of one download request of (about) `bytes` bytes.
    pub fn download_url(&self, bytes: u64) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => {
                self.endpoint("speedtest/down", Some(&format!("bytes={bytes}")))
            }
            HttpFlavour::Librespeed => {
                let mib = bytes.div_ceil(1 << 20).clamp(1, 1024);
                self.endpoint("garbage.php", Some(&format!("ckSize={mib}")))
            }
            HttpFlavour::Cloudflare => self.endpoint("__down", Some(&format!("bytes={bytes}"))),
        }
    }

    /// The URL upload requests are posted to.
    pub fn upload_url(&self) -> Url {
        match self.flavour {
            HttpFlavour::Netpulse => self.endpoint("speedtest/up", None),
            HttpFlavour::Librespeed => self.endpoint("empty.php", None),
            HttpFlavour::Cloudflare => self.endpoint("__up", None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavours_and_endpoints_follow_the_documented_rules() {
        let t = HttpTarget::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Netpulse);
        assert_eq!(
            t.ping_url().as_str(),
            "http://127.0.0.1:8080/speedtest/ping"
        );
        assert_eq!(
            t.download_url(1000).as_str(),
            "http://127.0.0.1:8080/speedtest/down?bytes=1000"
        );
        assert_eq!(
            t.upload_url().as_str(),
            "http://127.0.0.1:8080/speedtest/up"
        );

        let t = HttpTarget::parse("https://np.example/sub/").unwrap();
        assert_eq!(
            t.ping_url().as_str(),
            "https://np.example/sub/speedtest/ping"
        );
        assert_eq!(t.display(), "https://np.example/sub");

        let t = HttpTarget::parse("https://ls.example/speed/backend").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Librespeed);
        assert_eq!(
            t.ping_url().as_str(),
            "https://ls.example/speed/backend/empty.php"
        );
        assert_eq!(
            t.download_url(25 << 20).as_str(),
            "https://ls.example/speed/backend/garbage.php?ckSize=25"
        );
        assert_eq!(
            t.download_url(1).as_str(),
            "https://ls.example/speed/backend/garbage.php?ckSize=1"
        );
        assert_eq!(
            t.upload_url().as_str(),
            "https://ls.example/speed/backend/empty.php"
        );

        let t = HttpTarget::parse("https://ls.example/?flavour=librespeed").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Librespeed);
        assert_eq!(t.ping_url().as_str(), "https://ls.example/empty.php");

        let t = HttpTarget::parse("https://speed.cloudflare.com").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Cloudflare);
        assert_eq!(
            t.ping_url().as_str(),
            "https://speed.cloudflare.com/__down?bytes=0"
        );
        assert_eq!(
            t.download_url(5).as_str(),
            "https://speed.cloudflare.com/__down?bytes=5"
        );
        assert_eq!(t.upload_url().as_str(), "https://speed.cloudflare.com/__up");

        let t = HttpTarget::parse("http://cf-mirror.example/x?flavour=cloudflare").unwrap();
        assert_eq!(t.upload_url().as_str(), "http://cf-mirror.example/x/__up");

        let t = HttpTarget::parse("https://speed.cloudflare.com/backend?flavour=netpulse").unwrap();
        assert_eq!(t.flavour(), HttpFlavour::Netpulse);
    }

    #[test]
    fn bad_urls_are_rejected() {
        for bad in [
            "ftp://x.example",
            "http://",
            "not a url",
            "http://x.example/?token=1",
            "http://x.example/?flavour=ookla",
            "http://x.example/?flavour=netpulse&flavour=cloudflare",
            "http://x.example/#frag",
        ] {
            assert!(HttpTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        let t = HttpTarget::parse("https://user:secret@np.example/").unwrap();
        assert_eq!(t.display(), "https://user:***@np.example/");
    }
}
