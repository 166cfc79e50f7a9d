//! The C boundary: the generated ABI types, the one boundary all exports go through, the
//! handle table, and the exported functions grouped by the object they act on.

pub mod abi;
pub mod boundary;
pub mod convert;
pub mod handles;

mod api_engine;
mod api_func;
mod api_read;
mod api_space;
mod api_ticket;
mod api_tuple;
mod api_txn;

/// Addresses of every exported function. Referencing this from a binary makes sure the
/// linker keeps them all, so that a LuaJIT inside that binary finds them through `ffi.C`.
pub fn exported() -> Vec<usize> {
    vec![
        api_engine::jb_abi_version as *const () as usize,
        api_engine::jb_strerror as *const () as usize,
        api_engine::jb_last_error as *const () as usize,
        api_engine::jb_errinj_set as *const () as usize,
        api_engine::jb_errinj_get as *const () as usize,
        api_engine::jb_engine_open as *const () as usize,
        api_engine::jb_engine_close as *const () as usize,
        api_engine::jb_engine_stat as *const () as usize,
        api_engine::jb_engine_recovery as *const () as usize,
        api_ticket::jb_engine_snapshot as *const () as usize,
        api_engine::jb_engine_set_logger as *const () as usize,
        api_engine::jb_engine_run_deferred as *const () as usize,
        api_engine::jb_engine_pending as *const () as usize,
        api_engine::jb_engine_pending_counter as *const () as usize,
        api_func::jb_index_create_func as *const () as usize,
        api_func::jb_key_sink_push as *const () as usize,
        api_func::jb_key_sink_fail as *const () as usize,
        api_func::jb_space_insert_keyed as *const () as usize,
        api_func::jb_space_replace_keyed as *const () as usize,
        api_func::jb_space_replace_rekeyed as *const () as usize,
        api_func::jb_space_replaced as *const () as usize,
        api_func::jb_engine_buried_next as *const () as usize,
        api_func::jb_engine_buried_forget as *const () as usize,
        api_space::jb_space_create as *const () as usize,
        api_space::jb_space_find as *const () as usize,
        api_space::jb_space_drop as *const () as usize,
        api_space::jb_space_len as *const () as usize,
        api_space::jb_space_id as *const () as usize,
        api_space::jb_space_index_at as *const () as usize,
        api_space::jb_index_name as *const () as usize,
        api_space::jb_index_create as *const () as usize,
        api_space::jb_index_find as *const () as usize,
        api_space::jb_index_drop as *const () as usize,
        api_space::jb_space_insert as *const () as usize,
        api_space::jb_space_replace as *const () as usize,
        api_space::jb_space_delete as *const () as usize,
        api_read::jb_index_get as *const () as usize,
        api_read::jb_index_get_data as *const () as usize,
        api_read::jb_index_count as *const () as usize,
        api_read::jb_index_iter as *const () as usize,
        api_txn::jb_txn_begin as *const () as usize,
        api_txn::jb_txn_commit as *const () as usize,
        api_txn::jb_txn_rollback as *const () as usize,
        api_ticket::jb_txn_commit_async as *const () as usize,
        api_ticket::jb_ticket_state as *const () as usize,
        api_ticket::jb_ticket_wait as *const () as usize,
        api_ticket::jb_ticket_free as *const () as usize,
        api_ticket::jb_txn_commit_numbered as *const () as usize,
        api_ticket::jb_engine_commit_state as *const () as usize,
        api_ticket::jb_engine_commit_wait as *const () as usize,
        api_ticket::jb_engine_commit_counters as *const () as usize,
        api_ticket::jb_engine_poll as *const () as usize,
        api_ticket::jb_engine_awaiting as *const () as usize,
        api_read::jb_iter_next as *const () as usize,
        api_read::jb_iter_next_data as *const () as usize,
        api_read::jb_iter_next_batch as *const () as usize,
        api_read::jb_iter_next_data_batch as *const () as usize,
        api_read::jb_iter_rewind as *const () as usize,
        api_read::jb_iter_changes as *const () as usize,
        api_read::jb_iter_free as *const () as usize,
        api_tuple::jb_tuple_field_count as *const () as usize,
        api_tuple::jb_tuple_field as *const () as usize,
        api_tuple::jb_tuple_fields as *const () as usize,
        api_tuple::jb_tuple_ref as *const () as usize,
        api_tuple::jb_tuple_unref as *const () as usize,
        api_tuple::jb_tuple_data as *const () as usize,
        api_tuple::jb_data_field as *const () as usize,
        api_tuple::jb_data_field_count as *const () as usize,
        api_tuple::jb_data_fields as *const () as usize,
        api_tuple::jb_data_encode as *const () as usize,
    ]
}
