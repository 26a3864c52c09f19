//! Self-registration: an agent started with `NETPULSE_SERVER_URL`, `AGENT_TOKEN` (a
//! registration token), `AGENT_NAME` and `AGENT_LOCATION` instead of `PROBE_ID`/`PROBE_TOKEN`
//! registers itself (`POST /api/v1/agents/register`) and keeps the probe id and token it gets in
//! `<state dir>/agent-identity` (mode 0600), so a restart or an image upgrade with the same state
//! directory keeps its identity without registering again. The machine id is
//! `AGENT_MACHINE_ID`, else `/etc/machine-id`, else one generated once and kept in
//! `<state dir>/machine-id`. Registering the same name on the same machine again (a lost
//! identity file) gives the same probe a new token. `PROBE_ID` and `PROBE_TOKEN`, when given,
//! win and nothing is registered.

use std::path::{Path, PathBuf};

use netpulse_adapters::agent_client::normalise_server_url;
use serde::{Deserialize, Serialize};

use crate::config::{Args, default_spool_dir};

/// The identity file's name in the state directory.
pub const IDENTITY_FILE: &str = "agent-identity";
/// The generated machine id's file name in the state directory.
pub const MACHINE_ID_FILE: &str = "machine-id";

/// What the agent keeps about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The server it registered with.
    pub server_url: String,
    /// Its name.
    pub name: String,
    /// Its probe.
    pub probe_id: String,
    /// Its probe token.
    pub probe_token: String,
}

/// The state directory: `--state-dir`, else the spool directory.
pub fn state_dir(args: &Args, xdg_state_home: Option<&str>, home: Option<&str>) -> PathBuf {
    args.state_dir
        .clone()
        .or_else(|| args.spool_dir.clone())
        .unwrap_or_else(|| default_spool_dir(xdg_state_home, home))
}

fn machine_id(args: &Args, dir: &Path) -> Result<String, String> {
    if let Some(id) = args
        .agent_machine_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Ok(id.to_owned());
    }
    for path in [Path::new("/etc/machine-id"), &dir.join(MACHINE_ID_FILE)] {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return Ok(text.trim().to_owned());
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    write_private(&dir.join(MACHINE_ID_FILE), id.as_bytes())?;
    Ok(id)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads the identity kept in `dir`, if it is for this server and name.
pub fn kept_identity(dir: &Path, server_url: &str, name: &str) -> Option<Identity> {
    let text = std::fs::read_to_string(dir.join(IDENTITY_FILE)).ok()?;
    let id: Identity = serde_json::from_str(&text).ok()?;
    (id.server_url == server_url && id.name == name).then_some(id)
}

/// When `PROBE_ID` is not given and `AGENT_TOKEN` is: fills the probe id and token from the
/// kept identity, or registers and keeps it. The error names the variable to fix.
pub async fn resolve(
    args: &mut Args,
    xdg_state_home: Option<&str>,
    home: Option<&str>,
) -> Result<(), String> {
    let Some(token) = args.agent_token.clone().filter(|t| !t.trim().is_empty()) else {
        return Ok(());
    };
    if args.probe_id.is_some() {
        return Ok(());
    }
    let url = args
        .server_url
        .as_deref()
        .ok_or("NETPULSE_SERVER_URL is missing; give the server's base URL")?;
    let server_url = normalise_server_url(url).map_err(|e| format!("NETPULSE_SERVER_URL: {e}"))?;
    let name = args
        .agent_name
        .clone()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or("AGENT_NAME is missing; an agent registering with AGENT_TOKEN needs a name")?;
    let dir = state_dir(args, xdg_state_home, home);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("NETPULSE_STATE_DIR: cannot create {}: {e}", dir.display()))?;
    let identity = if let Some(id) = kept_identity(&dir, &server_url, &name) {
        id
    } else {
        let machine = machine_id(args, &dir)?;
        let id = register(&server_url, &token, &name, args, &machine).await?;
        let text = serde_json::to_vec_pretty(&id).map_err(|e| e.to_string())?;
        write_private(&dir.join(IDENTITY_FILE), &text)?;
        tracing::info!(probe = %id.probe_id, "registered as {name}");
        id
    };
    args.probe_id = Some(identity.probe_id);
    args.probe_token = Some(identity.probe_token);
    Ok(())
}

async fn register(
    server_url: &str,
    token: &str,
    name: &str,
    args: &Args,
    machine: &str,
) -> Result<Identity, String> {
    let body = serde_json::json!({
        "token": token,
        "name": name,
        "location": args.agent_location.clone().unwrap_or_default(),
        "machineId": machine,
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client
        .post(format!("{server_url}/api/v1/agents/register"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("cannot register with {server_url}: {e}"))?;
    let status = answer.status();
    let json: serde_json::Value = answer
        .json()
        .await
        .map_err(|e| format!("cannot read the registration answer: {e}"))?;
    if !status.is_success() {
        let message = json["message"].as_str().unwrap_or("refused");
        return Err(format!(
            "AGENT_TOKEN: registration refused ({status}): {message}"
        ));
    }
    let field = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    Ok(Identity {
        server_url: server_url.to_owned(),
        name: name.to_owned(),
        probe_id: field(&json["probe"]["id"]).ok_or("the answer has no probe id")?,
        probe_token: field(&json["token"]).ok_or("the answer has no token")?,
    })
}
