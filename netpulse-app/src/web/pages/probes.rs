//! Settings → Probes: everything `netpulse probe …` does. New and rotated tokens are shown
//! once; deleting a probe that still has connections is refused with the reason.

use netpulse_domain::liveness;
use std::collections::HashMap;

use netpulse_domain::id::ProbeId;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::{connections, flash, probes};
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::redirect;
use crate::web::view::{Layout, ctx, html};
use crate::web::{Web, format, pages, settings};

/// A probe as listed.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `k=v` labels.
    pub labels: String,
    /// Enabled.
    pub enabled: bool,
    /// Polled recently.
    pub online: bool,
    /// Liveness for people.
    pub liveness: String,
    /// Agent version and engines.
    pub agent: String,
    /// Created.
    pub created: String,
    /// Connections it tests.
    pub connections: usize,
}

/// The page's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbesPage {
    /// Probes.
    pub probes: Vec<ProbeRow>,
    /// A token just issued: (probe name, probe id, token).
    pub issued: Option<(String, String, String)>,
    /// The name typed (on errors).
    pub name: String,
    /// The labels typed (on errors).
    pub labels: String,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The server URL agents use.
    pub server_url: String,
    /// How to start an agent with the token just issued.
    pub setup: Option<AgentSetup>,
}

/// Copyable ways to start `netpulse-agent` for a probe whose token was just issued; the
/// variable names are the agent's own ([`netpulse_agent::config::env`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentSetup {
    /// A shell command line.
    pub shell: String,
    /// A `docker run` command line (the NetPulse image).
    pub docker: String,
    /// A systemd environment file (`/etc/netpulse/agent.env`).
    pub env_file: String,
}

impl AgentSetup {
    /// The commands for `server_url`, probe `id` and `token`.
    #[must_use]
    pub fn new(server_url: &str, id: &str, token: &str) -> Self {
        use netpulse_agent::config::env::{PROBE_ID, PROBE_TOKEN, SERVER_URL};
        use std::fmt::Write as _;
        let vars = [
            (SERVER_URL, server_url),
            (PROBE_ID, id),
            (PROBE_TOKEN, token),
        ];
        let quoted: Vec<String> = vars
            .iter()
            .map(|(k, v)| format!("{k}='{}'", v.replace('\'', "'\\''")))
            .collect();
        Self {
            shell: format!("{} netpulse-agent", quoted.join(" ")),
            docker: format!(
                "docker run -d --name netpulse-agent --restart unless-stopped {} \
                 --entrypoint netpulse-agent netpulse:local",
                quoted
                    .iter()
                    .map(|v| format!("-e {v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            env_file: vars.iter().fold(String::new(), |mut file, (k, v)| {
                let _ = writeln!(file, "{k}={v}");
                file
            }),
        }
    }
}

async fn base(web: &Web, req: &Request) -> Result<ProbesPage, AppError> {
    let site = settings::load(web).await?;
    let now = web.app.clock.now();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in connections::list(&web.app, None).await? {
        *counts.entry(c.probe_id.as_str().to_owned()).or_default() += 1;
    }
    let stale_after = liveness::stale_after_seconds(web.app.poll_interval_seconds);
    let mut probes = probes::list(&web.app).await?;
    probes.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if web.options.behind_https {
        "https"
    } else {
        "http"
    };
    Ok(ProbesPage {
        probes: probes
            .iter()
            .map(|p| ProbeRow {
                id: p.id.as_str().into(),
                name: p.name.as_str().into(),
                labels: p
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                enabled: p.enabled,
                online: p.enabled && liveness::is_alive(p.last_poll_at, now, stale_after),
                liveness: p.last_poll_at.map_or_else(
                    || "never polled".to_owned(),
                    |t| format!("polled {}", format::relative(t, now)),
                ),
                agent: match (&p.agent_version, p.agent_engines.is_empty()) {
                    (Some(v), false) => format!(
                        "{v} · {}",
                        p.agent_engines
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    (Some(v), true) => v.clone(),
                    (None, _) => "—".into(),
                },
                created: format::date_time(p.created_at, &site.tz),
                connections: counts.get(p.id.as_str()).copied().unwrap_or(0),
            })
            .collect(),
        server_url: format!("{scheme}://{host}"),
        ..ProbesPage::default()
    })
}

async fn respond(
    web: &Web,
    req: &Request,
    status: StatusCode,
    edit: impl FnOnce(&mut ProbesPage),
) -> Response {
    let site = settings::load(web).await.unwrap_or_default();
    match base(web, req).await {
        Ok(mut page) => {
            edit(&mut page);
            page.setup = page
                .issued
                .as_ref()
                .map(|(_, id, token)| AgentSetup::new(&page.server_url, id, token));
            let layout = Layout::new(&ctx(req), &site, "Probes", "settings").tab("probes");
            html(web, status, "settings_probes.html", &layout, &page)
        }
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// The flash kind of a probe token just issued: (probe name, probe id, token).
const PROBE_TOKEN_FLASH: &str = "probe-token";

/// Keeps a probe's new token as a one-time flash of the session and redirects to the page that
/// shows it once (post/redirect/get: a reload neither creates another probe nor shows it again).
async fn issue(web: &Web, req: &Request, name: &str, id: &str, token: &str) -> Response {
    let Some(s) = ctx(req).session else {
        return redirect("/login");
    };
    let payload = serde_json::to_string(&(name, id, token)).unwrap_or_default();
    match flash::put(&web.app, &s.digest, PROBE_TOKEN_FLASH, &payload).await {
        Ok(()) => redirect("/settings/probes?issued=1#issued"),
        Err(e) => pages::app_error(web, req, &e).await,
    }
}

/// `GET /settings/probes`: with a token just issued (a flash), shows it this once.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    let issued = match ctx(req).session {
        Some(s) => match flash::take(&web.app, &s.digest).await {
            Ok(flashes) => flashes
                .into_iter()
                .rev()
                .find(|f| f.kind == PROBE_TOKEN_FLASH)
                .and_then(|f| serde_json::from_str::<(String, String, String)>(&f.payload).ok()),
            Err(e) => return pages::app_error(&web, req, &e).await,
        },
        None => None,
    };
    respond(&web, req, StatusCode::OK, |p| p.issued = issued).await
}

/// `POST /settings/probes`: creates a probe; its token is shown once by the GET it redirects to.
#[handler]
pub(crate) async fn create(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let (name, labels_text) = (form.get("name"), form.raw("labels"));
    let pairs: Vec<String> = labels_text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let result = async {
        let labels = probes::labels_from_pairs(&pairs)?;
        probes::create(&web.app, &name, labels).await
    }
    .await;
    match result {
        Ok(issued) => {
            issue(
                &web,
                req,
                issued.probe.name.as_str(),
                issued.probe.id.as_str(),
                &issued.token,
            )
            .await
        }
        Err(AppError::Invalid { field, message }) => {
            respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, |p| {
                p.name = name;
                p.labels = labels_text;
                p.errors
                    .add(if field == "labels" { "labels" } else { "name" }, message);
            })
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}

/// `POST /settings/probes/{id}/{action}`: `enable`, `disable`, `rotate` (token shown once) or
/// `delete`.
#[handler]
pub(crate) async fn act(
    req: &Request,
    web: Data<&Web>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Ok(pid) = ProbeId::parse(&id) else {
        return pages::error_for(
            &web,
            req,
            StatusCode::NOT_FOUND,
            "That probe does not exist.",
        )
        .await;
    };
    let result = match action.as_str() {
        "enable" | "disable" => probes::set_enabled(&web.app, &pid, action == "enable").await,
        "delete" => probes::delete(&web.app, &pid).await,
        "rotate" => match probes::rotate_token(&web.app, &pid).await {
            Ok(token) => {
                let name = probes::get(&web.app, &pid)
                    .await
                    .map(|p| p.name.as_str().to_owned())
                    .unwrap_or_default();
                return issue(&web, req, &name, &id, &token).await;
            }
            Err(e) => Err(e),
        },
        _ => return pages::error_for(&web, req, StatusCode::NOT_FOUND, "Unknown action.").await,
    };
    match result {
        Ok(()) => redirect("/settings/probes"),
        Err(AppError::Conflict(m)) => {
            respond(&web, req, StatusCode::CONFLICT, |p| {
                p.errors.add("_form", m);
            })
            .await
        }
        Err(e) => pages::app_error(&web, req, &e).await,
    }
}
