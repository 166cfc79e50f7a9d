//! The C boundary: the generated ABI types, the one boundary all exports go through, the
//! handle table, and the exported functions grouped by the object they act on.

pub mod abi;
internal!(boundary, convert, handles, status);

mod api_engine;
mod api_func;
mod api_read;
mod api_schema;
mod api_space;
mod api_ticket;
mod api_tuple;
mod api_txn;

/// One exported function: its name, address and kind of entry.
#[derive(Clone, Copy, Debug)]
pub struct Export {
    pub name: &'static str,
    pub addr: usize,
    pub kind: crate::guard::Entry,
}

/// Every exported function, with the kind `export!` declared for it (functions outside
/// `export!`, which touch no engine, say theirs here). Referencing this from a binary makes
/// sure the linker keeps them all, so that a LuaJIT inside that binary finds them through
/// `ffi.C`.
pub fn exported() -> Vec<Export> {
    macro_rules! exports {
        ($($m:ident::$f:ident $(=> $kind:ident)?,)*) => {
            vec![$(Export {
                name: stringify!($f),
                addr: $m::$f as *const () as usize,
                kind: exports!(@kind $m::$f $(, $kind)?),
            }),*]
        };
        (@kind $m:ident::$f:ident) => { $m::$f::KIND };
        (@kind $m:ident::$f:ident, $kind:ident) => { crate::guard::Entry::$kind };
    }
    exports![
        api_engine::jb_abi_version => Free,
        api_engine::jb_strerror => Free,
        api_engine::jb_last_error => Free,
        api_engine::jb_errinj_set,
        api_engine::jb_errinj_get,
        api_engine::jb_engine_open,
        api_engine::jb_engine_close,
        api_engine::jb_engine_stat,
        api_engine::jb_engine_recovery,
        api_engine::jb_engine_path,
        api_ticket::jb_engine_snapshot,
        api_engine::jb_engine_set_logger,
        api_engine::jb_engine_run_deferred,
        api_engine::jb_engine_pending,
        api_engine::jb_engine_pending_counter,
        api_func::jb_index_create_func,
        api_func::jb_key_sink_push,
        api_func::jb_key_sink_fail,
        api_func::jb_space_insert_keyed,
        api_func::jb_space_replace_keyed,
        api_func::jb_space_replace_rekeyed,
        api_func::jb_space_replaced,
        api_func::jb_engine_buried_next,
        api_func::jb_engine_buried_forget,
        api_space::jb_space_create,
        api_space::jb_space_find,
        api_space::jb_space_drop,
        api_space::jb_space_len,
        api_space::jb_space_id,
        api_space::jb_space_index_at,
        api_space::jb_index_name,
        api_space::jb_index_create,
        api_space::jb_index_find,
        api_space::jb_index_drop,
        api_space::jb_space_insert,
        api_space::jb_space_replace,
        api_space::jb_space_delete,
        api_space::jb_index_update,
        api_space::jb_space_upsert,
        api_space::jb_index_delete,
        api_schema::jb_engine_space_at,
        api_schema::jb_space_describe,
        api_schema::jb_space_format_field,
        api_schema::jb_index_describe,
        api_schema::jb_index_part,
        api_schema::jb_space_truncate,
        api_schema::jb_space_rename,
        api_txn::jb_txn_statement_count,
        api_space::jb_space_set_format,
        api_schema::jb_index_rename,
        api_read::jb_index_get,
        api_read::jb_index_get_data,
        api_read::jb_index_random,
        api_read::jb_index_count,
        api_read::jb_index_iter,
        api_txn::jb_txn_begin,
        api_txn::jb_txn_commit,
        api_txn::jb_txn_rollback,
        api_txn::jb_txn_savepoint,
        api_txn::jb_txn_rollback_to_savepoint,
        api_ticket::jb_txn_commit_async,
        api_ticket::jb_ticket_state,
        api_ticket::jb_ticket_wait,
        api_ticket::jb_ticket_free,
        api_ticket::jb_txn_commit_numbered,
        api_ticket::jb_engine_commit_state,
        api_ticket::jb_engine_commit_wait,
        api_ticket::jb_engine_commit_fd,
        api_ticket::jb_engine_commit_counters,
        api_ticket::jb_engine_poll,
        api_ticket::jb_engine_awaiting,
        api_read::jb_iter_next,
        api_read::jb_iter_next_data,
        api_read::jb_iter_next_batch,
        api_read::jb_iter_next_data_batch,
        api_read::jb_iter_next_fields_batch,
        api_read::jb_iter_rewind,
        api_read::jb_iter_changes,
        api_read::jb_iter_free,
        api_tuple::jb_tuple_field_count,
        api_tuple::jb_tuple_field,
        api_tuple::jb_tuple_fields,
        api_tuple::jb_tuple_ref,
        api_tuple::jb_tuple_unref,
        api_tuple::jb_tuple_data,
        api_tuple::jb_data_field,
        api_tuple::jb_data_field_count,
        api_tuple::jb_data_fields,
        api_tuple::jb_data_encode,
        api_tuple::jb_data_update,
    ]
}
