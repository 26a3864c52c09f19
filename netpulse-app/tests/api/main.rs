//! Integration tests of the `netpulse` server: the real server on a loopback port over a fresh
//! SQLite or PostgreSQL database, driven over HTTP; and the real binary for the CLI.

mod access_matrix;
mod access_pages;
mod agent_api;
mod agent_e2e;
mod alert_incidents;
mod alerting;
mod alerting_browser;
mod audit;
mod baselines;
mod browser;
mod checks;
mod cli;
mod cli_checks;
mod deployment;
mod exposure;
mod fleet;
mod fleet_browser;
mod fleet_e2e;
mod health;
mod helpers;
mod incidents_browser;
mod input_bounds;
mod integrations;
mod jwt;
mod late_results;
mod limits;
mod long_poll;
mod maintenance;
mod metrics;
mod mqtt_ha;
mod mqtt_tls;
mod notifications;
mod openapi;
mod outage_alerts;
mod outage_resume;
mod outages;
mod outages_ui;
mod probe_alerting;
mod remote_write;
mod rest_api;
mod retention;
mod rollups;
mod schemathesis;
mod status;
mod two_factor;
mod web_auth;
mod web_browser;
mod web_charts;
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
    baselines::a_deviation_from_the_baseline_alerts_after_n_and_collecting_never_does,
    baselines::baseline_input_is_checked_with_field_names,
    baselines::checks_learn_a_latency_baseline_per_family,
    mqtt_ha::mqtt_results_states_and_discovery_reach_a_real_broker,
    mqtt_ha::mqtt_broker_down_never_holds_up_ingest,
    mqtt_ha::mqtt_settings_are_checked_and_the_password_is_write_only,
    mqtt_ha::mqtt_settings_section_on_the_settings_page,
    mqtt_ha::mqtt_outage_states_open_and_close,
    mqtt_ha::mqtt_entities_deleted_while_stopped_are_removed_at_startup,
    mqtt_tls::mqtt_tls_with_a_custom_ca_connects_and_a_wrong_ca_or_host_is_reported,
    mqtt_tls::mqtt_custom_ca_is_validated_kept_and_removable,
    mqtt_tls::mqtt_a_new_prefix_or_discovery_off_clears_the_old_retained_topics,
    alerting::alerts_go_to_the_connections_contact_list_only,
    alerting::a_severity_override_reaches_pagerduty_and_the_message,
    alerting::reminders_repeat_each_interval_until_acknowledged,
    alerting::only_operators_and_admins_may_acknowledge,
    alerting::alerting_input_errors_name_the_field,
    probe_alerting::an_outage_goes_to_the_probes_list_with_the_source_severity,
    probe_alerting::a_silent_probe_alerts_its_list_with_its_own_severity,
    probe_alerting::probe_alerting_input_errors_name_the_field,
    probe_alerting::an_outage_has_one_incident_row_from_opening_to_closing,
    probe_alerting::outage_reminders_repeat_each_interval_until_acknowledged,
    alerting::a_check_routes_to_its_list_with_its_own_severity,
    alert_incidents::a_failing_check_is_an_incident_reminded_until_acknowledged,
    alert_incidents::an_offline_probe_is_an_incident_reminded_until_acknowledged,
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
    rest_api::api_token_use_is_recorded_at_most_once_a_minute,
    notifications::three_unhealthy_results_alert_once_and_one_healthy_recovers_once,
    notifications::a_silent_probe_raises_one_offline_alert_and_one_back,
    notifications::a_delivery_is_retried_after_500_then_sent,
    notifications::the_digest_zone_defaults_to_the_sites,
    notifications::a_permanent_failure_is_logged_and_counted_and_others_still_deliver,
    notifications::channels_api_keeps_secrets_write_only,
    notifications::the_global_threshold_and_the_master_switch_apply,
    notifications::maintenance_holds_alerts_until_it_ends,
    notifications::quiet_hours_hold_recoveries_but_not_alerts,
    notifications::digests_summarize_the_day_and_skip_empty_days,
    web_auth::first_run_setup_and_sessions,
    two_factor::totp_enrolment_sign_in_replay_and_recovery,
    two_factor::required_two_factor_sends_users_to_enrol,
    jwt::jwt_login_sessions_and_revocation,
    audit::audit_log_records_pages_and_prunes,
    web_auth::sign_in_is_throttled,
    web_auth::csrf_and_json_auth,
    web_auth::static_assets_are_embedded,
    web_browser::browser_flow,
    two_factor::two_factor_in_a_browser,
    web_pages::history_csv_and_share_links,
    web_pages::heatmap_uses_the_site_time_zone,
    web_pages::failures_are_shown_with_their_reason,
    web_pages::settings_probe_and_connection_forms,
    web_pages::notifications_page_and_its_api_with_a_session,
    web_browser::notifications_page_in_a_browser,
    alerting_browser::alerting_pages_in_a_browser,
    alerting_browser::probe_and_check_alerting_on_the_settings_page,
    incidents_browser::incidents_of_every_kind_on_one_page,
    web_charts::sparse_week_in_a_browser,
    baselines::the_dashboard_draws_the_baseline_band,
    web_charts::connectivity_page_in_a_browser,
    limits::oversized_dashboard_forms_answer_413,
    limits::rest_json_bodies_are_capped_at_one_mib,
    limits::results_authenticate_before_reading_the_body,
    limits::connection_fields_are_capped,
    limits::long_sign_in_emails_store_no_throttle_key,
    input_bounds::cron_and_time_zone_mistakes_are_refused,
    input_bounds::result_times_are_bounded,
    input_bounds::the_local_agent_target_is_applied_on_every_start,
    input_bounds::tasks_follow_the_engines_the_agent_advertises,
    input_bounds::connections_saved_before_the_cron_rules_still_load,
    health::healthcheck_detail_needs_credentials,
    openapi::null_only_where_declared_and_malformed_ids,
    openapi::method_not_allowed_carries_allow,
    checks::checks_crud_defaults_and_field_errors,
    checks::due_carries_the_check_set_and_its_version,
    checks::check_results_are_taken_exactly_once,
    checks::a_failing_service_check_alerts_once_and_recovers,
    checks::the_connectivity_page_shows_each_check_and_family,
    checks::dns_results_are_rated_per_resolver,
    integrations::alertmanager_gets_the_alert_and_its_resolution_while_a_failing_pagerduty_retries,
    long_poll::a_run_now_wakes_a_waiting_poll,
    long_poll::a_write_by_another_process_wakes_a_waiting_poll,
    long_poll::the_agent_client_long_polls,
    rollups::rollups_equal_raw_answers_over_random_data_in_random_order,
    retention::prune_removes_exactly_what_is_older_and_rollups_stay,
    retention::pruned_check_results_keep_their_outages,
    retention::bad_retention_values_are_refused_naming_the_setting,
    fleet::agent_states_follow_the_one_offline_rule,
    fleet::maintenance_suppresses_work_and_shows_in_the_state,
    fleet::agents_register_themselves_with_a_token,
    access_matrix::every_route_has_a_rule_and_each_role_gets_what_it_may,
    access_matrix::a_role_change_or_disable_applies_on_the_next_request,
    access_pages::admins_manage_users_and_roles_hide_buttons,
    access_pages::a_new_token_is_shown_once_after_a_redirect,
    outages::replayed_rounds_equal_rounds_in_order_and_a_rebuild,
    outages::plexsheeps_lost_check_is_no_outage_and_32_minutes_are_one,
    outages::a_result_of_a_family_its_check_lacks_is_refused,
    outages::outages_and_uptime_over_rest,
    outage_resume::failing_rounds_after_a_resume_are_unknown_and_open_no_outage,
    outage_alerts::an_outage_is_announced_once_across_pushes_and_processes,
    outage_alerts::rounds_in_the_probes_own_maintenance_are_maintenance,
    outage_alerts::a_failing_gateway_check_makes_the_outage_lan,
    outage_alerts::a_silent_probe_closes_its_outage_uncertain,
    outage_alerts::digests_list_the_periods_outages_and_availability,
    outage_alerts::an_announced_outage_a_replay_withdraws_is_closed,
    status::status_figures_are_the_same_in_cli_and_api,
    outages_ui::outage_pages_show_the_api_figures,
);

/// Two server processes need PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_send_one_alert_per_edge() {
    if let Some(t) = helpers::spawn(helpers::Db::Postgres).await {
        notifications::two_processes_send_one_alert_per_edge(&t).await;
    }
}
/// Like `on_both_databases!`, for scenarios that need the metrics exporter installed (as
/// `netpulse serve` installs it by default).
macro_rules! on_both_databases_with_metrics {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod with_metrics {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let t = crate::helpers::spawn_with_metrics(
                            crate::helpers::Db::Sqlite,
                            Some(crate::metrics::config(&[])),
                        )
                        .await
                        .unwrap();
                        crate::$module::$name(&t).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        if let Some(t) = crate::helpers::spawn_with_metrics(
                            crate::helpers::Db::Postgres,
                            Some(crate::metrics::config(&[])),
                        )
                        .await
                        {
                            crate::$module::$name(&t).await;
                        }
                    }
                )*
            }
        }
    };
}

on_both_databases_with_metrics!(
    metrics::every_family_with_names_types_labels_and_help,
    metrics::counters_survive_a_restart_and_deleted_connections_leave,
    metrics::duplicate_names_get_distinct_series,
    metrics::both_renderers_write_the_same_exposition,
    late_results::old_results_replayed_during_an_incident_change_no_live_state,
    checks::check_series_follow_the_latest_round,
    fleet::probe_state_is_a_metric,
    outage_alerts::outage_series_are_metrics,
    mqtt_tls::mqtt_connection_and_drops_are_metrics,
);

/// The Fleet page with 1,000 probes: on SQLite only (creating 1,000 probes one by one on
/// PostgreSQL takes a minute on the CI box; the page's reads are the same SQL on both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fleet_page_in_a_browser() {
    let t = helpers::spawn(helpers::Db::Sqlite).await.unwrap();
    fleet_browser::fleet_page_in_a_browser(&t).await;
}

/// The Outages page and the status board in Chromium with a month of rounds: on SQLite only
/// (33 days of rounds through the real ingest take a minute and a half on PostgreSQL on the CI
/// box; the page test above runs the same reads on both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_outage_pages_in_a_browser() {
    let t = helpers::spawn(helpers::Db::Sqlite).await.unwrap();
    outages_ui::outage_pages_in_a_browser(&t).await;
}
