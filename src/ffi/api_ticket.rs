//! Exported: asynchronous commits, snapshots, their tickets, and applying the WAL writer's
//! outcomes.

use super::abi::*;
use super::api_txn::txn_of;
use super::boundary::{cell_of, enter, export};
use super::convert::{need, put};
use super::handles::{self, EngineCell, Gone, Obj, Ticket};
use crate::engine::checkpoint::RunState;
use crate::engine::durable::TicketState;
use crate::error::{Error, Result};
use std::rc::Rc;

fn ticket_of(t: *mut jb_ticket) -> Result<(Rc<EngineCell>, Ticket)> {
    handles::with(t as u64, |o| match o {
        Obj::Ticket(c, id) => Ok((c.clone(), *id)),
        other => Err(handles::wrong_kind(other, "a ticket")),
    })
}

export! {
    Hot fn jb_txn_commit_async(tx: *mut jb_txn, out: *mut *mut jb_ticket) {
        need(out, "out")?;
        let (cell, id) = txn_of(tx)?;
        // The handle is made first; without one the commit fails and, as every failed commit
        // does, ends the transaction.
        let h = match handles::insert(Obj::Ticket(cell.clone(), Ticket::Commit(0))) {
            Ok(h) => h,
            Err(e) => {
                let _ = enter(&cell, |eng| eng.rollback(id));
                let _ = handles::remove(tx as u64, Gone::Freed);
                return Err(e);
            }
        };
        let r = enter(&cell, |eng| eng.commit_async(id));
        match r {
            Ok(ticket) => {
                let _ = handles::with(h, |o| {
                    *o = Obj::Ticket(cell.clone(), Ticket::Commit(ticket));
                    Ok(())
                });
                let _ = handles::remove(tx as u64, Gone::Freed);
                // SAFETY: checked non-null above.
                unsafe { put(out, h as *mut jb_ticket, "out") }
            }
            Err(e) => {
                let _ = handles::remove(h, Gone::Freed);
                let _ = handles::remove(tx as u64, Gone::Freed);
                Err(e)
            }
        }
    }
}

export! {
    Hot fn jb_txn_commit_numbered(tx: *mut jb_txn, out: *mut u64) {
        need(out, "out")?;
        let (cell, id) = txn_of(tx)?;
        let r = enter(&cell, |eng| eng.commit_async(id));
        // The transaction is over, whatever the outcome.
        let _ = handles::remove(tx as u64, Gone::Freed);
        // SAFETY: checked non-null above.
        unsafe { put(out, r?, "out") }
    }
}

/// The `enum jb_ticket_state` code of a commit's state.
fn commit_code(s: TicketState) -> u32 {
    match s {
        TicketState::Queued => JB_TICKET_QUEUED,
        TicketState::Waiting => JB_TICKET_WAITING,
        TicketState::Committed => JB_TICKET_COMMITTED,
        TicketState::RolledBack(_) => JB_TICKET_ROLLED_BACK,
    }
}

export! {
    Hot fn jb_engine_commit_state(e: *mut jb_engine, n: u64, out: *mut u32) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let code = enter(&cell, |eng| eng.ticket_state(n).map(commit_code))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, code, "out") }
    }
}

export! {
    Hot fn jb_engine_commit_wait(e: *mut jb_engine, n: u64) {
        let cell = cell_of(e as u64)?;
        enter(&cell, |eng| eng.wait_ticket(n))
    }
}

export! {
    Hot fn jb_engine_commit_fd(e: *mut jb_engine, fd: *mut std::ffi::c_int) {
        need(fd, "fd")?;
        let cell = cell_of(e as u64)?;
        let v = enter(&cell, |eng| eng.settled_fd())?;
        // SAFETY: checked non-null above.
        unsafe { put(fd, v, "fd") }
    }
}

export! {
    Hot fn jb_engine_commit_counters(e: *mut jb_engine, out: *mut *const u64) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let p = enter(&cell, |eng| {
            Ok(&eng.counters.commits as *const _ as *const u64)
        })?;
        // SAFETY: checked non-null above. The counters live in an Rc the engine holds, laid
        // out as two u64 (repr(C) of Cell<u64>, which is repr(transparent)).
        unsafe { put(out, p, "out") }
    }
}

export! {
    Hot fn jb_ticket_state(t: *mut jb_ticket, out: *mut u32) {
        need(out, "out")?;
        let (cell, ticket) = ticket_of(t)?;
        let code = enter(&cell, |eng| {
            Ok(match ticket {
                Ticket::Commit(id) => commit_code(eng.ticket_state(id)?),
                Ticket::Snapshot(run) => match eng.snapshot_state(run)? {
                    RunState::InProgress => JB_TICKET_IN_PROGRESS,
                    RunState::Done => JB_TICKET_DONE,
                    RunState::Failed(_) => JB_TICKET_FAILED,
                },
            })
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(out, code, "out") }
    }
}

export! {
    Hot fn jb_ticket_wait(t: *mut jb_ticket) {
        let (cell, ticket) = ticket_of(t)?;
        enter(&cell, |eng| match ticket {
            Ticket::Commit(id) => eng.wait_ticket(id),
            Ticket::Snapshot(run) => eng.snapshot_wait(run),
        })
    }
}

export! {
    Hot fn jb_ticket_free(t: *mut jb_ticket) {
        if t.is_null() {
            return Ok(());
        }
        let (cell, ticket) = match ticket_of(t) {
            Ok(x) => x,
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        handles::remove(t as u64, Gone::Freed)?;
        // A commit's number needs no forgetting; a closed engine has no snapshot runs left.
        if let Ticket::Snapshot(run) = ticket {
            let _ = enter(&cell, |eng| {
                eng.snapshot_release(run);
                Ok(())
            });
        }
        Ok(())
    }
}

export! {
    Hot fn jb_engine_snapshot(e: *mut jb_engine, out: *mut *mut jb_ticket) {
        let cell = cell_of(e as u64)?;
        if out.is_null() {
            return enter(&cell, |eng| eng.snapshot());
        }
        // The handle is made first, so that a failure to make it starts nothing.
        let h = handles::insert(Obj::Ticket(cell.clone(), Ticket::Snapshot(0)))?;
        match enter(&cell, |eng| eng.snapshot_start()) {
            Ok(run) => {
                let _ = handles::with(h, |o| {
                    *o = Obj::Ticket(cell.clone(), Ticket::Snapshot(run));
                    Ok(())
                });
                // SAFETY: checked non-null above.
                unsafe { put(out, h as *mut jb_ticket, "out") }
            }
            Err(e) => {
                let _ = handles::remove(h, Gone::Freed);
                Err(e)
            }
        }
    }
}

export! {
    Hot fn jb_engine_poll(e: *mut jb_engine) {
        let cell = cell_of(e as u64)?;
        enter(&cell, |eng| {
            eng.poll_wal();
            Ok(())
        })
    }
}

export! {
    Hot fn jb_engine_awaiting(e: *mut jb_engine, i: u32, out: *mut jb_awaiting_index) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let a = enter(&cell, |eng| {
            let a = eng.awaiting.get(i as usize).ok_or_else(|| {
                Error::NoSuchIndex(format!(
                    "{} recovered functional index(es) await their key functions; none at {i}",
                    eng.awaiting.len()
                ))
            })?;
            let mut types = [0u32; 16];
            for (k, t) in a.types.iter().enumerate().take(16) {
                types[k] = super::status::field_type_code(*t);
            }
            Ok(jb_awaiting_index {
                space: a.space.as_ptr() as *const std::ffi::c_char,
                space_len: a.space.len() as u32,
                part_count: a.types.len() as u32,
                index: a.name.as_ptr() as *const std::ffi::c_char,
                index_len: a.name.len() as u32,
                unique: a.unique as u32,
                multikey: a.multikey as u32,
                part_types: types,
            })
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(out, a, "out") }
    }
}
