//! `netpulse-agent --test`: takes the check set from `--checks-file` or from one `/due` poll,
//! runs every check once and prints the table ([`super::table`]).

use std::path::Path;

use netpulse_adapters::wire_checks::DueChecksBody;
use netpulse_ports::agent_api::{AgentApi, AgentInfo, CheckSet};

use super::{CheckRounds, table};
use crate::config::Settings;
use crate::engines::Engines;
use crate::{EXIT_CHECKS_FAILED, EXIT_CONFIG, EXIT_CYCLE_FAILED, EXIT_OK};

/// Reads a check set file (the JSON of `/due`'s `checks` field).
pub fn read_set(path: &Path) -> Result<CheckSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let body: DueChecksBody = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    CheckSet::try_from(body).map_err(|e| e.to_string())
}

/// Runs `--test`; returns the exit status.
pub async fn run(settings: &Settings, api: &dyn AgentApi, engines: &Engines) -> u8 {
    let set = if let Some(path) = &settings.checks_file {
        match read_set(path) {
            Ok(set) => set,
            Err(e) => {
                eprintln!(
                    "netpulse-agent: configuration error: --checks-file (env NETPULSE_CHECKS_FILE): {}: {e}",
                    path.display()
                );
                return EXIT_CONFIG;
            }
        }
    } else {
        let agent = AgentInfo {
            version: settings.agent.version.clone(),
            engines: engines.available().await,
            checks_version: None,
            wait: None,
        };
        match api.due(&agent).await {
            Ok(plan) => {
                let Some(set) = plan.checks else {
                    eprintln!("netpulse-agent: the server sent no check set (an older server?)");
                    return EXIT_CHECKS_FAILED;
                };
                set
            }
            Err(e) => {
                eprintln!("netpulse-agent: cannot fetch the check set: {e}");
                return EXIT_CYCLE_FAILED;
            }
        }
    };
    if set.items.is_empty() {
        println!("no checks configured for this probe");
        return EXIT_OK;
    }
    let rounds = CheckRounds::without_spool(&settings.agent.agent_key);
    let (text, ok) = table::run(&rounds, &set).await;
    print!("{text}");
    if ok { EXIT_OK } else { EXIT_CHECKS_FAILED }
}
