//! Integration tests of the `netpulse` server: the real server on a loopback port over a fresh
//! SQLite or PostgreSQL database, driven over HTTP; and the real binary for the CLI.

mod agent_api;
mod browser;
mod cli;
mod helpers;
mod openapi;
mod rest_api;
mod web_auth;
mod web_browser;
mod web_pages;

/// Generates `sqlite::<name>` and `postgres::<name>` for each scenario taking a `TestApp`.
macro_rules! on_both_databases {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = crate::helpers::spawn(crate::helpers::Db::Sqlite).await.unwrap();
                    crate::$module::$name(&t).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(t) = crate::helpers::spawn(crate::helpers::Db::Postgres).await {
                        crate::$module::$name(&t).await;
                    }
                }
            )*
        }
    };
}

on_both_databases!(
    agent_api::first_run_then_schedule_then_rotation,
    agent_api::pushes_are_idempotent,
    agent_api::php_agent_bodies_are_accepted,
    agent_api::authentication_errors,
    agent_api::body_errors_name_the_field,
    agent_api::config_health_ping_and_healthcheck,
    agent_api::run_now_flows_through_due_and_results,
    agent_api::degraded_connections_are_retested_sooner,
    rest_api::probes_crud,
    rest_api::connections_crud_and_validation,
    rest_api::measurements_list_filter_and_detail,
    rest_api::rest_requires_an_api_token,
    web_auth::first_run_setup_and_sessions,
    web_auth::sign_in_is_throttled,
    web_auth::csrf_and_json_auth,
    web_auth::static_assets_are_embedded,
    web_browser::browser_flow,
    web_pages::history_csv_and_share_links,
    web_pages::heatmap_uses_the_site_time_zone,
    web_pages::settings_probe_and_connection_forms,
);
