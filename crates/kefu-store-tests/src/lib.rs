//! The one test story every kefu store must pass (the Atuin model): plain async functions over
//! `&dyn Store`, one per behaviour, plus fixtures. An implementation crate runs all of them with
//!
//! ```ignore
//! kefu_store_tests::store_tests!(kefu_store_sqlite::testing::fresh_store);
//! ```
//!
//! in its `tests/store.rs`, which generates one `#[tokio::test]` per story function calling it
//! on a fresh, migrated store. Adding a behaviour = a function here plus its name in
//! `store_tests!`.

pub mod audit;
pub mod batch;
pub mod board;
pub mod calendar;
pub mod catalogue;
pub mod customer;
pub mod customer_import;
pub mod fixtures;
pub mod import_job;
pub mod initial_load;
pub mod knowledge;
pub mod lookup;
pub mod org;
pub mod search;
pub mod selfservice;
pub mod sla;
pub mod staff;
pub mod workorder;
pub mod workorder_batch;
pub mod workorder_fixtures;
pub mod workorder_list;
pub mod workorder_load;
pub mod workorder_sort;

pub use audit::*;
pub use batch::*;
pub use board::*;
pub use calendar::*;
pub use catalogue::*;
pub use customer::*;
pub use customer_import::*;
pub use import_job::*;
pub use initial_load::*;
pub use knowledge::*;
pub use lookup::*;
pub use org::*;
pub use search::*;
pub use selfservice::*;
pub use sla::*;
pub use staff::*;
pub use workorder::*;
pub use workorder_batch::*;
pub use workorder_list::*;
pub use workorder_load::*;
pub use workorder_sort::*;

/// Generates one `#[tokio::test]` per story function, each on a fresh store made by the async
/// fn `$fresh` (its output must coerce to `&dyn Store` when borrowed). The calling crate needs
/// `tokio` (with `macros` and `rt`) as a dev-dependency.
#[macro_export]
macro_rules! store_tests {
    ($fresh:path) => {
        $crate::store_tests!(@each $fresh;
            migrate_twice_applies_nothing_the_second_time,
            org_paths_nest_and_scope_lists_the_subtree,
            scope_is_a_path_prefix_not_a_string_prefix,
            org_unit_level_must_fit_parent,
            org_code_is_unique_and_parent_must_exist,
            department_kind_is_unique_per_unit,
            staff_round_trips_with_roles_and_login_hash,
            staff_references_and_username_are_checked,
            staff_list_is_scoped_and_paged,
            expired_session_is_not_returned,
            password_change_ends_sessions,
            revoked_token_no_longer_authenticates,
            token_use_is_recorded_at_most_once_per_interval,
            created_customer_reads_back_unchanged,
            created_event_lists_every_non_empty_field,
            duplicate_account_number_is_refused_and_nothing_is_written,
            unknown_supply_unit_is_refused,
            update_records_old_and_new_values_in_history,
            update_without_changes_keeps_version_and_history,
            stale_version_is_refused,
            update_checks_account_number_and_unit,
            customer_outside_scope_is_not_found,
            retired_customer_keeps_history_and_is_hidden_from_lookups_by_default,
            racing_updates_from_one_version_conflict_once,
            batch_create_stores_all_in_input_order,
            batch_create_is_all_or_nothing,
            upsert_creates_then_updates_by_account_number,
            upsert_batch_is_all_or_nothing,
            imported_customer_history_keeps_its_creation_values,
            initial_load_then_reimport_updates_without_duplicates,
            failed_initial_load_aborts_and_a_rerun_completes_it,
            initial_load_is_not_offered_once_a_customer_is_stored,
            loaded_customers_show_their_batch_creation_in_history,
            phone_lookup_finds_every_customer_sharing_the_number,
            a_looked_up_customer_reads_like_one_read_by_id,
            account_and_id_number_lookups_are_exact,
            name_prefix_matches_chinese_prefixes_only,
            pagination_walks_every_row_once,
            special_dates_window_includes_leap_day_on_28_february,
            special_dates_are_ordered_scoped_and_limited,
            audit_log_lists_newest_first_and_pages_backwards,
            batched_audit_entries_keep_their_actors_and_times,
            customer_writes_are_audited,
            complaint_goes_from_intake_to_archive,
            deadlines_are_stored_with_the_order_and_filtered_by,
            board_counts_open_orders_per_unit_and_intake_per_channel,
            assisting_units_read_the_order_but_do_not_host_it,
            sweep_raises_each_alert_once_to_the_right_supervisors,
            transitions_keep_the_alerts_already_raised,
            suspended_orders_raise_nothing_until_resumed,
            parallel_sweeps_write_each_alert_once,
            return_then_redispatch_keeps_the_return_chain,
            retried_intake_returns_the_first_order,
            reused_key_with_other_content_is_refused,
            concurrent_dispatch_has_exactly_one_winner,
            illegal_transition_is_typed_and_writes_nothing,
            order_outside_scope_is_not_found,
            order_numbers_are_sequential_per_centre_day,
            repeat_appeal_is_linked,
            timeline_replays_to_the_stored_order,
            order_list_filters_and_pages,
            unidentified_caller_repeats_by_phone_and_intake_checks_the_role,
            concurrent_intakes_with_shared_keys_make_one_order_per_key,
            a_refused_intake_does_not_fail_the_others_of_its_batch,
            an_intake_repeating_one_of_its_batch_links_to_it,
            catalogue_and_rules_start_as_the_defaults_at_version_zero,
            saved_catalogue_reads_back_equal,
            stale_catalogue_version_is_refused,
            catalogue_history_keeps_every_version_with_actor_and_time,
            removing_a_code_in_use_is_refused_and_writes_nothing,
            major_rules_round_trip_and_keep_history,
            racing_catalogue_saves_conflict_once,
            calendar_and_time_limits_start_as_the_shipped_defaults,
            saved_calendar_year_overrides_the_shipped_one,
            stale_calendar_version_is_refused,
            time_limits_round_trip_and_keep_history,
            loaded_orders_read_back_equal,
            intake_after_a_load_gets_the_next_number,
            bad_load_writes_nothing,
            a_bulk_load_ends_with_a_store_like_any_other,
            portal_account_is_made_once_at_the_top_unit_and_cannot_sign_in,
            a_code_is_accepted_once_and_only_the_last_one_counts,
            a_code_dies_after_its_tries_or_its_lifetime,
            a_phone_gets_a_limited_number_of_codes_an_hour,
            a_customer_rating_is_stored_with_the_order_and_its_timeline,
            oldest_first_lists_walk_forwards_page_by_page,
            due_soonest_lists_put_the_nearest_deadline_first,
            search_matches_words_not_single_characters,
            a_user_dictionary_word_is_one_term_once_reindexed,
            account_and_order_numbers_are_found_exactly,
            a_county_never_sees_another_countys_hits,
            text_added_by_a_step_is_found_in_the_same_commit,
            bulk_loaded_orders_are_searchable,
            an_order_moved_to_another_county_is_found_there_only,
            phone_numbers_and_their_fragments_find_the_callers_orders,
            a_common_word_is_ranked_among_the_newest_matches_and_says_so,
            a_large_bulk_load_indexes_every_order_with_its_own_terms,
            an_article_goes_through_review_and_keeps_every_version,
            agents_find_only_published_articles_in_force,
            orders_cite_articles_in_scope_and_the_most_cited_come_first,
            an_import_job_keeps_its_progress_and_problems_in_order,
            an_import_job_is_hidden_outside_its_uploaders_scope,
            a_finished_import_job_refuses_further_progress,
            a_restart_leaves_unfinished_import_jobs_interrupted,
        );
    };
    (@each $fresh:path; $($name:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $name() {
                let store = $fresh().await;
                $crate::$name(&store).await;
            }
        )+
    };
}
