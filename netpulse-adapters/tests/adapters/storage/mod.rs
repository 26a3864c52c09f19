//! The storage contract: every behaviour of the storage port, run against SQLite and against
//! PostgreSQL (`NETPULSE_TEST_PG_URL`; a fresh database per test).

mod access;
mod alert_incidents;
mod alerting;
mod baselines;
mod check_blocks;
mod checks;
mod contract;
mod helpers;
mod late;
mod metrics_contract;
mod notifications;
mod outage_buckets;
mod postgres_only;
mod retention;
mod rollup_clears;
mod schema;
mod web;
mod work_signals;

/// Generates `sqlite::<name>` and `postgres::<name>` tests for each contract function.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::storage::helpers::sqlite().await;
                    crate::storage::$name(db.storage.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = crate::storage::helpers::pg().await {
                        crate::storage::$name(db.storage.as_ref()).await;
                    }
                }
            )*
        }
    };
}

contract_tests!(
    prune_batches_remove_exactly_what_is_older,
    baseline_rows_are_per_day_and_the_newest_is_in_force,
    rollup_clears_remove_every_overlapping_bucket,
    probe_lifecycle,
    probe_delete_is_refused_while_connections_exist,
    poll_recording_is_debounced,
    connection_round_trips_every_field,
    connection_of_unknown_probe_is_not_found,
    connection_update_and_list_order,
    deleting_a_connection_deletes_its_history,
    record_judges_with_current_thresholds_and_updates_state,
    record_is_idempotent_on_the_result_id,
    record_of_unknown_connection_is_not_found,
    failed_results_are_stored_with_their_class,
    alert_edges_are_claimed_once,
    run_now_requests_flow,
    run_now_for_all_connections,
    scheduling_entries_read_state_not_history,
    measurement_filters,
    every_sort_order_pages_without_gaps_or_repeats,
    bad_cursors_are_rejected,
    reparse_replaces_typed_columns,
    users_settings_and_tokens,
    concurrent_writers_lose_nothing,
    sessions_lifecycle,
    login_throttle_counts_locks_and_clears,
    share_links_point_to_one_result_and_can_be_revoked,
    dashboard_reads,
    servers_are_summarised_over_a_window,
    export_pages_newest_first_without_gaps,
    late_results_are_stored_but_change_no_live_state,
    checks_round_trip_and_belong_to_their_probe,
    check_results_are_stored_once_with_every_figure,
    late_rounds_move_no_check_state,
    service_checks_cross_each_alert_edge_once,
    check_result_pages_merge_checks_without_gaps,
    addresses_round_trip_when_they_are_the_checks_own_host,
    random_results_in_random_batches_read_back_as_stored,
    work_signals_move_the_probes_version_and_notify,
    the_last_enabled_admin_stays,
    concurrent_demotions_keep_one_admin,
    tokens_have_owners_scopes_and_last_use,
    flashes_are_read_once,
    two_factor_state_steps_codes_and_challenges,
    audit_entries_page_newest_first_and_prune,
    outage_buckets_group_stored_rounds,
);

use access::*;
use baselines::*;
use check_blocks::*;
use checks::*;
use contract::*;
use late::*;
use outage_buckets::*;
use retention::*;
use rollup_clears::*;
use web::*;
use work_signals::*;
