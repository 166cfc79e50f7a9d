-- Generated from c_src/include/jitbox.h (the JITBOX_CDEF region). Do not edit:
-- run `JITBOX_BLESS=1 cargo test --test abi` after changing the header.
return [==[

/* Status codes. Stable numbers: never renumbered, only appended. */
enum jb_status {
    JB_OK = 0,
    JB_E_MEMORY = -1,          /* memory_limit reached or an allocation failed; nothing changed */
    JB_E_TUPLE_FOUND = -2,     /* duplicate key in a unique index */
    JB_E_NO_SUCH_SPACE = -3,
    JB_E_NO_SUCH_INDEX = -4,
    JB_E_FIELD_TYPE = -5,      /* a field or key part has the wrong type, or is missing */
    JB_E_ILLEGAL_PARAMS = -6,  /* bad argument: wrong arity, bad name, bad option, too large */
    JB_E_CONFLICT = -7,        /* transaction write-write conflict */
    JB_E_REENTRY = -8,         /* refused: re-entry into a busy engine, or Lua from a HOT entry */
    JB_E_WAL_IO = -9,
    JB_E_CASCADE_ROLLBACK = -10,
    JB_E_CLOSED = -11,         /* the engine was closed */
    JB_E_BAD_HANDLE = -12,     /* NULL, stale, freed or wrong-kind handle */
    JB_E_WRONG_THREAD = -13,   /* called from a thread that does not own the engine */
    JB_E_PANIC = -14,          /* internal bug caught at the boundary; the engine is poisoned */
    JB_E_BUSY = -15,
    JB_E_LOADING = -16,
    JB_E_EXISTS = -17,         /* a space or index with that name already exists */
    JB_E_POISONED = -18,       /* the engine refuses writes after an internal error */
    JB_E_BUFFER_TOO_SMALL = -19, /* a caller buffer is too small; *len says the size needed */
    JB_E_NO_SUCH_FIELD = -20,    /* an update names a field the tuple does not have */
    JB_E_UPDATE_OP = -21,        /* a malformed update operation (operator, field changed twice) */
    JB_E_UPDATE_ARG_TYPE = -22,  /* an update's argument or its field has the wrong type */
    JB_E_INTEGER_OVERFLOW = -23, /* + or - on integers left -2^63..2^64-1 */
    JB_E_SPLICE = -24,           /* a splice offset is outside the string */
    JB_E_PRIMARY_KEY_UPDATE = -25, /* an update would change a primary key field */
    JB_E_SEQUENCE_OVERFLOW = -26  /* the Lua module's sequences: past the bound, not cycling */
};

/* Field types of jb_field.type, of format fields and of index parts. */
enum jb_field_type {
    JB_FT_NIL = 0,
    JB_FT_BOOLEAN = 1,
    JB_FT_UNSIGNED = 2,   /* v.u */
    JB_FT_INTEGER = 3,    /* v.i; as a format/part type it also accepts unsigned values */
    JB_FT_NUMBER = 4,     /* v.d; as a format/part type it also accepts integers */
    JB_FT_STRING = 5,     /* v.s + len, arbitrary bytes (NUL allowed) */
    JB_FT_ANY = 6,        /* format fields only: no type check */
    JB_FT_MSGPACK = 7,    /* a value: one MessagePack value in v.s + len (an array, a map, a
                             binary string or an extension; checked; a scalar given this way
                             is stored as that scalar). Reads give nested values so. */
    JB_FT_ARRAY = 8,      /* format fields only: a MessagePack array */
    JB_FT_MAP = 9,        /* format fields only: a MessagePack map */
    JB_FT_SCALAR = 10,    /* format fields only: anything but an array or a map */
    JB_FT_DOUBLE = 11,    /* format/part type: a MessagePack float or double, never an integer
                             (a search key may be any number) */
    JB_FT_VARBINARY = 12  /* format/part type: a MessagePack binary string (JB_FT_MSGPACK value
                             0xc4..0xc6), ordered bytewise */
};

/* Iterator types, as in Tarantool. */
enum jb_iter_type {
    JB_ITER_EQ = 0,
    JB_ITER_REQ = 1,
    JB_ITER_ALL = 2,
    JB_ITER_LT = 3,
    JB_ITER_LE = 4,
    JB_ITER_GE = 5,
    JB_ITER_GT = 6
};

/* Kinds of callbacks registered with the engine. */
enum jb_callback_kind {
    JB_CB_NATIVE = 0,  /* pure C, never enters a Lua VM: may be invoked anywhere */
    JB_CB_LUA = 1      /* may enter a Lua VM (e.g. an ffi.cast callback): never invoked while a
                          HOT entry is active on the thread; deferred to a SAFE entry instead */
};

enum jb_log_level { JB_LOG_ERROR = 0, JB_LOG_WARN = 1, JB_LOG_INFO = 2 };

/* What reaches the disk before a commit completes. */
enum jb_wal_mode {
    JB_WAL_NONE = 0,   /* nothing: data in memory only */
    JB_WAL_WRITE = 1,  /* write(2) per group of commits: survives a process crash */
    JB_WAL_FSYNC = 2   /* write(2) and fdatasync(2) per group: survives a power loss */
};

/* Where an asynchronous commit (1-4) or a snapshot (5-7) is (jb_ticket_state). */
enum jb_ticket_state {
    JB_TICKET_QUEUED = 1,      /* prepared (visible), waiting for room in the WAL queue */
    JB_TICKET_WAITING = 2,     /* prepared, handed to the WAL writer */
    JB_TICKET_COMMITTED = 3,   /* durable as wal_mode says */
    JB_TICKET_ROLLED_BACK = 4, /* undone; jb_ticket_wait says why */
    JB_TICKET_IN_PROGRESS = 5, /* the snapshot is being written */
    JB_TICKET_DONE = 6,        /* the snapshot file is in place (synced, renamed) */
    JB_TICKET_FAILED = 7       /* the snapshot failed; jb_ticket_wait says why */
};

/* Opaque handles. */
typedef struct jb_engine jb_engine;
typedef struct jb_space jb_space;
typedef struct jb_index jb_index;
typedef struct jb_iter jb_iter;
typedef struct jb_tuple jb_tuple;
typedef struct jb_txn jb_txn;
typedef struct jb_ticket jb_ticket;

/* One tuple field or key part. Strings are borrowed: v.s must stay valid for the call. */
typedef union jb_value {
    uint64_t u;
    int64_t i;
    double d;
    const char *s;
} jb_value;

typedef struct jb_field {
    uint32_t type;   /* enum jb_field_type; JB_FT_BOOLEAN keeps 0 or 1 in v.u */
    uint32_t len;    /* string length in bytes (JB_FT_STRING only) */
    jb_value v;
} jb_field;

/* A log sink. msg is borrowed for the duration of the call (not NUL-terminated: use len). */
typedef void (*jb_log_fn)(void *ctx, int level, const char *msg, size_t len);

/* Bits of jb_engine_opts.flags. */
enum jb_open_flag {
    JB_OPEN_FORCE_RECOVERY = 1  /* open with the WAL up to its first damage; the damaged bytes
                                   and every later file are set aside in side files, and a
                                   warning says what (without it, damage refuses the open) */
};

typedef struct jb_engine_opts {
    uint64_t memory_limit;    /* bytes charged for all engine memory; 0 = 256 MiB */
    uint32_t max_tuple_size;  /* bytes of one encoded tuple; 0 = 1 MiB */
    uint32_t flags;           /* enum jb_open_flag bits; unknown bits are refused */
    const char *dir;          /* borrowed; NULL = no directory (in memory only). Opening
                                 locks it (one engine per directory, any process) and
                                 recovers the snapshot and WAL found there */
    uint32_t dir_len;         /* 0 when dir is NULL */
    uint32_t wal_mode;        /* enum jb_wal_mode; WRITE and FSYNC need dir */
    uint64_t wal_queue_max_size;  /* bytes handed to the WAL writer at a time; 0 = 16 MiB */
    uint32_t lock_timeout_ms; /* how long to wait for another engine to close dir; 0 = refuse
                                 at once (JB_E_BUSY, naming the holder's pid) */
    uint32_t log_kind;        /* enum jb_callback_kind of log_fn; 0 without log_fn */
    jb_log_fn log_fn;         /* NULL = warnings and errors go to stderr. In place before
                                 recovery runs; jb_engine_set_logger replaces it later */
    void *log_ctx;            /* borrowed: must stay valid while log_fn is registered;
                                 NULL without log_fn */
} jb_engine_opts;

typedef struct jb_format_field {
    const char *name;     /* borrowed; need not be NUL-terminated */
    uint32_t name_len;
    uint32_t type;        /* enum jb_field_type, JB_FT_NIL not allowed */
    uint32_t is_nullable; /* 0 or 1 */
    uint32_t reserved;    /* must be 0 */
} jb_format_field;

typedef struct jb_key_part {
    uint32_t fieldno;     /* 0-based field number */
    uint32_t type;        /* JB_FT_BOOLEAN/UNSIGNED/INTEGER/NUMBER/STRING/DOUBLE/VARBINARY */
    uint32_t is_nullable; /* 0 or 1: the part also takes nil, which sorts first; in a unique
                             index keys with nil may repeat. Not in a primary index. */
    uint32_t collation;   /* enum jb_collation; strings only */
    const char *path;     /* NULL, or a JSON path inside the field, as Tarantool spells it:
                             ".city", "[2]", "[\"a b\"]", "[*]" (one key per array element:
                             a multikey index). Not in a primary index, nor a functional one. */
    uint32_t path_len;    /* bytes of path; 0 for none */
    uint32_t exclude_null; /* 0 or 1: a tuple with nil here is not in the index (the part must
                              be nullable; not in a primary index). */
} jb_key_part;

/* Collations of string index parts, as Tarantool's of the same names. */
enum jb_collation {
    JB_COLL_BINARY = 0,     /* bytewise */
    JB_COLL_UNICODE = 1,    /* ICU root locale, tertiary strength: accents and case count */
    JB_COLL_UNICODE_CI = 2  /* ICU root locale, primary strength: only base letters count */
};

/* Index types, as Tarantool's of the same names. A HASH index is unique, has no nullable parts
   and no paths, and finds by whole keys only: JB_ITER_EQ with the full key, JB_ITER_ALL, and
   JB_ITER_GT (what follows a key in its order; jitbox keeps HASH indexes as trees, so that
   order is the key order). Other iterators and partial keys are JB_E_ILLEGAL_PARAMS. */
enum jb_index_type {
    JB_INDEX_TREE = 0,
    JB_INDEX_HASH = 1
};

/* Zero a definition before filling it (jb_index_def def = {0};): a field a later version adds
   then keeps what jitbox did before it. */
typedef struct jb_index_def {
    const jb_key_part *parts;  /* borrowed */
    uint32_t part_count;       /* 1..16 */
    uint32_t unique;           /* 0 or 1; the first index of a space must be unique */
    uint32_t type;             /* enum jb_index_type; 0 is TREE */
    uint32_t reserved;         /* 0 */
} jb_index_def;

typedef struct jb_stat {
    uint64_t memory_used;      /* bytes charged to memory_limit now */
    uint64_t memory_limit;
    uint64_t max_tuple_size;   /* a result buffer of this size fits any tuple */
    uint64_t space_count;
    uint64_t tuple_count;      /* entries of all primary indexes (old versions included) */
    uint64_t hot_calls;        /* HOT entries into this engine */
    uint64_t safe_calls;       /* SAFE entries into this engine */
    uint64_t reentry_refused;  /* calls refused with JB_E_REENTRY */
    uint64_t callbacks_deferred;   /* JB_CB_LUA callbacks queued because a HOT entry was active */
    uint64_t callbacks_run;        /* callbacks invoked (immediately or from the queue) */
    uint64_t callbacks_pending;    /* queued callbacks not yet run */
    uint64_t callbacks_dropped;    /* queued callbacks dropped because memory_limit was reached */
    uint64_t txn_open;         /* transactions begun and not yet ended */
    uint64_t versions;         /* tuples with version records (open writes, kept old versions) */
    uint64_t gc_pending;       /* versions and records waiting for garbage collection */
    uint64_t callbacks_refused;    /* JB_CB_LUA callbacks a HOT entry needed now: JB_E_REENTRY */
    uint64_t wal_prepared;     /* commits prepared and not yet written (queued or waiting) */
    uint64_t wal_committed;    /* commits written to the WAL since open */
    uint64_t wal_rolled_back;  /* commits rolled back because a WAL write failed */
    uint64_t wal_failed_writes;    /* WAL writes that failed */
    uint64_t wal_next_lsn;     /* LSN the next record gets */
    uint64_t snapshots_done;   /* snapshots written since open */
    uint64_t snapshots_failed; /* snapshots that failed since open */
    uint64_t snapshot_lsn;     /* LSN of the newest snapshot (written or recovered), 0: none */
    uint64_t snapshot_running; /* 1 while a snapshot is being written */
    uint64_t recovery_wal_files;   /* WAL files read on open */
    uint64_t recovery_records;     /* WAL records replayed on open (after the snapshot) */
    uint64_t recovery_tuples;      /* tuples after recovery */
    uint64_t recovery_micros;      /* how long recovery took */
    uint64_t recovery_set_aside;   /* bytes recovery moved to side files (0: nothing) */
    uint64_t wal_state;        /* enum jb_wal_state: the WAL writer's */
} jb_stat;

/* The WAL writer's state (jb_stat.wal_state). */
enum jb_wal_state {
    JB_WAL_OFF = 0,            /* no log: an engine without a dir, or wal_mode 'none' */
    JB_WAL_IDLE = 1,           /* waiting for commits */
    JB_WAL_WRITING = 2,        /* writing a group of commits */
    JB_WAL_STALLED = 3,        /* holding commits back (error injection WAL_DELAY) */
    JB_WAL_FAILED = 4,         /* a write failed; the commits behind it are rolled back */
    JB_WAL_BROKEN = 5,         /* the file could not be cut back after a failure: writes fail */
    JB_WAL_STOPPED = 6         /* shut down */
};

/* Which path jb_engine_path gives. */
enum jb_path {
    JB_PATH_DIR = 0,           /* the data directory ("" without one) */
    JB_PATH_WAL_FILE = 1       /* the WAL file being written ("" before the first write) */
};

/* A recovered functional index that waits for its key function (jb_engine_awaiting). */
typedef struct jb_awaiting_index {
    const char *space;         /* engine-owned until the next DDL; not NUL-terminated */
    uint32_t space_len;
    uint32_t part_count;
    const char *index;         /* engine-owned until the next DDL; not NUL-terminated */
    uint32_t index_len;
    uint32_t unique;           /* 0 or 1 */
    uint32_t multikey;         /* 0 or 1 */
    uint32_t part_types[16];   /* enum jb_field_type of each key part */
} jb_awaiting_index;

/* A functional index's key function. It is called with the data of one tuple (a MessagePack
   array, borrowed for the call) and reports the tuple's key with jb_key_sink_push — exactly one
   key, or for a multikey index any number (equal keys count once) — then returns 0. On failure
   it returns non-zero, after jb_key_sink_fail to say why. It must not call into the engine
   (such calls get JB_E_REENTRY). The sink is valid only during the call. */
typedef struct jb_key_sink jb_key_sink;
typedef int (*jb_key_fn)(void *ctx, const uint8_t *data, size_t size, jb_key_sink *sink);

typedef struct jb_func_def {
    jb_key_fn fn;
    void *ctx;          /* borrowed: must stay valid while the index exists */
    uint32_t kind;      /* enum jb_callback_kind: JB_CB_LUA if fn may enter a Lua VM */
    uint32_t multikey;  /* 0 or 1 */
} jb_func_def;

/* The keys of a new tuple for the functional indexes of its space, computed by the caller.
   Indexes with JSON-path parts compute their own keys and have no entry here. */
typedef struct jb_keys {
    const jb_field *parts;   /* every key's parts: key after key, functional index after index */
    const uint32_t *counts;  /* keys per functional index, in the space's index order */
    uint32_t part_count;     /* jb_field entries in parts */
    uint32_t index_count;    /* entries in counts: the space's number of functional indexes */
} jb_keys;

/* One update operation, with Tarantool's operators: '=' sets a field (field count + 1 appends),
   '!' inserts before it (count + 1, or -1, appends), '#' deletes arg.v.u fields from it, '+' and
   '-' add or subtract a number (integers stay integers and must stay within -2^63..2^64-1; a
   double makes a double), '&' '|' '^' combine an unsigned field with the unsigned arg, ':'
   splices: cuts splice_cut bytes of a string field at splice_offset and pastes arg's string.
   Operations apply in order, each to the result of those before it; '=', arithmetic, bitwise
   and ':' may change a field once per update (JB_E_UPDATE_OP otherwise). */
typedef struct jb_update_op {
    uint8_t op;             /* '=', '!', '#', '+', '-', '&', '|', '^' or ':' */
    uint8_t reserved[3];    /* 0 */
    int32_t field;          /* 1-based field number, negative from the end (-1: the last);
                               0 when name is set */
    const char *name;       /* a format field's name instead of a number, or NULL */
    size_t name_len;
    int32_t splice_offset;  /* ':' only: 1-based byte offset (past the end: the end), negative
                               from the end (-1: after the last byte); 0 is out of bounds */
    int32_t splice_cut;     /* ':' only: bytes to cut; negative: all but -splice_cut - 1 of
                               the bytes after the offset */
    jb_field arg;           /* the value ('=', '!'), number, mask, count or string to paste */
} jb_update_op;

/* Bits of the flags of jb_index_update and jb_space_upsert. */
enum jb_write_flag {
    JB_WRITE_PREVIEW = 1  /* write nothing: copy to buf the tuple the call would write (for a
                             caller that computes functional-index keys before writing it) */
};

/* ANY. ABI version of this header; a Lua module or host compares it with its own. Any thread. */
uint32_t jb_abi_version(void);

/* ANY. Static name of a status code ("JB_E_MEMORY"); never NULL, never freed. Any thread. */
const char *jb_strerror(int code);

/* ANY. This thread's message for the last failed call (static "" if none). Borrowed: valid until the
   next jitbox call on this thread; copy it to keep it. Any thread. */
const char *jb_last_error(void);

/* ANY. Error injection (tests): "ALLOC_FAIL_AFTER" = n lets n more charged allocations succeed on
   this thread and fails the next one (-1: off); "PANIC_NEXT_CALL" = 1 makes the next boundary
   call on this thread panic inside (to test JB_E_PANIC); "WAL_DELAY" = 1 holds the WAL writer
   of this thread's engines back until it is 0 again; "WAL_WRITE" = 1 makes their WAL writes
   fail while set. Borrows name. Any thread. */
int jb_errinj_set(const char *name, int64_t value);
int jb_errinj_get(const char *name, int64_t *out);

/* SAFE. Opens an engine owned by the calling thread and process. Borrows opts (NULL =
   defaults). With a dir: creates it (mode 0750, files 0640, whatever the umask), locks it
   (JB_E_BUSY if another engine of any process holds it, after lock_timeout_ms), then loads
   the newest snapshot and replays the WAL. Recovery never deletes or cuts data that may have
   been acknowledged: damage (a complete record that fails its checksum, a gap, an incomplete
   record in an older file) refuses the open with JB_E_WAL_IO naming file and offset, and
   changes nothing; only an incomplete last record of the newest file is set aside, into a
   side file, with a warning. In a process forked after the open, every call on the engine
   fails with JB_E_WRONG_THREAD and closing it touches nothing of the parent's.
   Caller owns *out: close it with jb_engine_close. */
int jb_engine_open(const jb_engine_opts *opts, jb_engine **out);

/* HOT. Writes the one-line summary of what opening the engine recovered (the line it logged,
   with what it set aside) into buf, and its length to *len; "" for an engine without a dir.
   JB_E_BUFFER_TOO_SMALL when it does not fit: *len then says the size needed. Borrows e. */
int jb_engine_recovery(jb_engine *e, char *buf, size_t cap, size_t *len);

/* HOT. Writes the path `which` names (enum jb_path) into buf and its length to *len (not
   NUL-terminated). JB_E_BUFFER_TOO_SMALL when it does not fit: *len then says the size
   needed; JB_E_ILLEGAL_PARAMS for an unknown `which`. Borrows e. */
int jb_engine_path(jb_engine *e, uint32_t which, char *buf, size_t cap, size_t *len);

/* SAFE. Closes the engine: frees every space, index and tuple it holds that no caller still
   references. Handles of its spaces and indexes become invalid (JB_E_CLOSED); iterators give
   JB_E_CLOSED; tuples the caller still holds stay readable until unreferenced. Accepts NULL
   and an already-closed engine. Consumes e. */
int jb_engine_close(jb_engine *e);

/* HOT. Borrows e; writes *out. */
int jb_engine_stat(jb_engine *e, jb_stat *out);

/* SAFE. Registers a log sink (fn NULL = none). kind says whether fn may enter a Lua VM
   (JB_CB_LUA: messages produced during HOT entries are queued and delivered by the next
   jb_engine_run_deferred). Borrows ctx: it must stay valid while registered. */
int jb_engine_set_logger(jb_engine *e, jb_log_fn fn, void *ctx, uint32_t kind);

/* SAFE. Runs up to max (0 = all) queued callbacks: log messages, and the removal of old
   versions' functional-index entries that need a JB_CB_LUA key function (queued by garbage
   collection or by writes during HOT entries; until then those versions stay pinned and are
   skipped by readers). Writes how many ran to *ran (may be NULL). */
int jb_engine_run_deferred(jb_engine *e, uint32_t max, uint32_t *ran);

/* HOT. Number of queued callbacks, for a cheap check before calling jb_engine_run_deferred. */
int jb_engine_pending(jb_engine *e, uint32_t *out);

/* HOT. Writes to *out a pointer to the number of queued callbacks (what jb_engine_pending
   returns), kept current by the engine: a check after writes costs one load. Engine-owned;
   readable until the engine is closed. */
int jb_engine_pending_counter(jb_engine *e, const uint64_t **out);

/* SAFE. Creates a space. Borrows name and format (format may be NULL with format_count 0).
   *out is engine-owned. */
int jb_space_create(jb_engine *e, const char *name, size_t name_len,
                    const jb_format_field *format, uint32_t format_count, jb_space **out);

/* HOT. Looks a space up by name. Borrows name. *out is engine-owned. */
int jb_space_find(jb_engine *e, const char *name, size_t name_len, jb_space **out);

/* SAFE. Drops the space and its indexes; its handles become invalid. Consumes s. */
int jb_space_drop(jb_space *s);

/* HOT. Number of tuples in the latest committed state of the space (writes of open
 * transactions and versions not yet collected do not count; jb_index_count with a
 * transaction and no key counts what it sees, in one pass over the versions kept for
 * readers). Borrows s. */
int jb_space_len(jb_space *s, uint64_t *out);

/* SAFE. Creates an index; the first index of a space is its primary key and must be unique.
   A secondary index is built over existing tuples. Parts with a path find their value inside
   the field (missing: an error, or nil when the part is nullable); a "[*]" part makes one key
   per element (an absent array makes none). Borrows name and def. *out engine-owned. */
int jb_index_create(jb_space *s, const char *name, size_t name_len, const jb_index_def *def,
                    jb_index **out);

/* SAFE. Creates a functional index: its keys are computed by func->fn from each tuple, and
   def->parts describe the key (parts[k].fieldno must be k). It is built over existing tuples by
   calling func->fn (JB_E_ILLEGAL_PARAMS if it fails or returns a bad key; nothing is created).
   Writes to the space must then bring the new tuple's keys (jb_space_insert_keyed), unless
   func->kind is JB_CB_NATIVE: then the engine calls fn itself. Removing an old version's
   entries calls fn again: at once for JB_CB_NATIVE, from jb_engine_run_deferred for JB_CB_LUA.
   Borrows name, def and func (fn and ctx must stay valid while the index exists). *out is
   engine-owned. */
int jb_index_create_func(jb_space *s, const char *name, size_t name_len,
                         const jb_index_def *def, const jb_func_def *func, jb_index **out);

/* ANY. Only inside a jb_key_fn: reports one key of count parts (borrowed for the call). Wrong
   arity or types give JB_E_FIELD_TYPE/JB_E_ILLEGAL_PARAMS and fail the key function's call. */
int jb_key_sink_push(jb_key_sink *sink, const jb_field *parts, uint32_t count);

/* ANY. Only inside a jb_key_fn: says why it failed (borrows msg; len bytes). */
int jb_key_sink_fail(jb_key_sink *sink, const char *msg, size_t len);

/* HOT. The pull-style alternative to jb_engine_run_deferred for functional-index entries: a
   host that can compute keys itself (the Lua module does, in compiled code) drains the queue of
   buried old versions — versions whose entries wait for a JB_CB_LUA key function — without any
   callback. jb_engine_buried_next writes the oldest one's space (jb_space_id) to *space_id and
   its tuple data to *data and *size (engine-owned: valid until it is forgotten or the next SAFE
   entry; copy it before running code that may enter the engine); *data = NULL when none waits.
   Borrows e. */
int jb_engine_buried_next(jb_engine *e, uint64_t *space_id, const uint8_t **data, size_t *size);

/* HOT. Removes the entries of the oldest buried version, data (as jb_engine_buried_next gave it;
   JB_E_ILLEGAL_PARAMS if the queue moved on), from its space's functional indexes and releases
   it. keys: its keys, shaped as for jb_space_replace_keyed, or NULL when the key function
   failed; an index where a key finds no entry is searched entry by entry. Borrows e, data and
   keys. On an error nothing changed. */
int jb_engine_buried_forget(jb_engine *e, const uint8_t *data, const jb_keys *keys);

/* HOT. Writes the space's id to *out: unique among the engine's spaces, never reused. */
int jb_space_id(jb_space *s, uint64_t *out);

/* What jb_space_describe and jb_index_describe report. Names are engine-owned until the next
   DDL and not NUL-terminated. */
typedef struct jb_space_info {
    uint64_t id;            /* as jb_space_id */
    const char *name;
    size_t name_len;
    uint32_t field_count;   /* fields of its format */
    uint32_t index_count;
    uint64_t len;           /* tuples in the latest committed state */
    uint64_t bsize;         /* bytes its tuples take (old versions not yet collected
                               included); walks the space */
} jb_space_info;

typedef struct jb_index_info {
    const char *name;
    size_t name_len;
    uint32_t id;            /* its position in the space: 0 is the primary index */
    uint32_t part_count;    /* parts: jb_index_part */
    uint8_t unique;
    uint8_t functional;     /* keys from a key function (jb_index_create_func) */
    uint8_t multikey;       /* several keys per tuple: a multikey key function or a [*] path */
    uint8_t type;           /* enum jb_index_type */
    uint64_t len;           /* entries, old versions not yet collected included */
    uint64_t bsize;         /* bytes its blocks take */
} jb_index_info;

/* HOT. The space at position pos (0-based) among the engine's spaces, JB_E_NO_SUCH_SPACE past
   the last: pos = 0, 1, ... lists every space. *out is engine-owned. Borrows e. */
int jb_engine_space_at(jb_engine *e, uint32_t pos, jb_space **out);

/* HOT. Facts about a space into *out (the caller's). Borrows s. */
int jb_space_describe(jb_space *s, jb_space_info *out);

/* HOT. Field i (0-based) of the space's format into *out (its name engine-owned until the next
   DDL), JB_E_NO_SUCH_FIELD past the last. Borrows s. */
int jb_space_format_field(jb_space *s, uint32_t i, jb_format_field *out);

/* HOT. Facts about an index into *out; part k (0-based) of its key into *out,
   JB_E_NO_SUCH_FIELD past the last (a functional index's parts are its keys' parts, fieldno
   0, 1, ...; a part's path is engine-owned until the next DDL). Borrow i. */
int jb_index_describe(jb_index *i, jb_index_info *out);
int jb_index_part(jb_index *i, uint32_t k, jb_key_part *out);

/* SAFE. Removes every tuple of the space, logged; its indexes stay. JB_E_BUSY while a
   transaction is open. Borrows s. */
int jb_space_truncate(jb_space *s);

/* SAFE. Gives the space a new format (as jb_space_create takes it), logged, once every index
   part fits its field and every tuple fits the format; JB_E_FIELD_TYPE naming what does not,
   and nothing changes. JB_E_BUSY while a transaction is open. Borrows s and format. */
int jb_space_set_format(jb_space *s, const jb_format_field *format, uint32_t format_count);

/* SAFE. Rename a space or an index, logged; handles stay valid. JB_E_EXISTS when the name is
   taken. Borrow s/i and name. */
int jb_space_rename(jb_space *s, const char *name, size_t name_len);
int jb_index_rename(jb_index *i, const char *name, size_t name_len);

/* HOT. Looks an index up by name. Borrows name. *out is engine-owned. */
int jb_index_find(jb_space *s, const char *name, size_t name_len, jb_index **out);

/* HOT. The index at position pos of the space (0 = primary), JB_E_NO_SUCH_INDEX past the end.
   *out is engine-owned. */
int jb_space_index_at(jb_space *s, uint32_t pos, jb_index **out);

/* HOT. The index's name: *name (engine-owned until the next DDL; not NUL-terminated) and *len.
   Borrows i. */
int jb_index_name(jb_index *i, const char **name, size_t *len);

/* SAFE. Drops an index. The primary index can only be dropped when it is the last one (the
   space's tuples go with it). Consumes i. */
int jb_index_drop(jb_index *i);

/* Transactions. Every data function takes a jb_txn *tx: NULL runs the call as its own
   autocommit statement; a transaction makes it part of tx, which sees the data as of its
   begin (snapshot isolation) plus its own writes. A transaction belongs to its engine. */

/* HOT. Begins a transaction. Caller owns *out: end it with jb_txn_commit or jb_txn_rollback. */
int jb_txn_begin(jb_engine *e, jb_txn **out);

/* HOT. Commits tx and ends it (its handle becomes invalid either way: a failed commit rolls
   tx back). JB_E_CONFLICT when another transaction committed a change to a key tx changed,
   after tx began (first committer wins), or when a statement of tx met such a conflict
   before: a conflict dooms tx — it is rolled back at once, and every later statement and
   read in it and its commit fail with JB_E_CONFLICT until it is rolled back or committed.
   JB_E_MEMORY: no memory to prepare the commit; tx is rolled back. Consumes tx. */
int jb_txn_commit(jb_txn *tx);

/* HOT. Undoes every change of tx and ends it. Accepts NULL. Consumes tx. A transaction that a
   failed WAL write rolled back already (JB_E_CASCADE_ROLLBACK from its next call) ends quietly. */
int jb_txn_rollback(jb_txn *tx);

/* HOT. A savepoint of tx: its number into *out. jb_txn_rollback_to_savepoint undoes every
   change tx made after savepoint n, newest first, and tx goes on; n stays valid and the
   savepoints taken after it end (JB_E_ILLEGAL_PARAMS for an ended or unknown one). Borrow tx. */
int jb_txn_savepoint(jb_txn *tx, uint64_t *out);
int jb_txn_rollback_to_savepoint(jb_txn *tx, uint64_t n);

/* HOT. How many statements the transaction has run: writes that succeeded, those that found
   nothing to change (a delete or update of a missing key) included, and those a rollback to
   a savepoint undid. (A host that records statements itself learns whether it saw them all.)
   Borrows tx. */
int jb_txn_statement_count(jb_txn *tx, uint64_t *out);

/* HOT. Commits tx without waiting for the WAL: tx is prepared (its changes are visible to
   later transactions) and its record queued; *out says when it is durable. JB_E_CONFLICT and
   JB_E_MEMORY as jb_txn_commit (tx rolled back, no ticket). Consumes tx. Caller owns *out:
   free it with jb_ticket_free (freeing does not cancel the commit). Without a WAL the ticket is
   committed at once. */
int jb_txn_commit_async(jb_txn *tx, jb_ticket **out);

/* HOT. Writes the ticket's enum jb_ticket_state to *out, after applying what the WAL writer
   (or the snapshot thread) has finished. Borrows t. */
int jb_ticket_state(jb_ticket *t, uint32_t *out);

/* HOT. Blocks until the ticket's commit is durable (JB_OK) or rolled back: JB_E_WAL_IO when
   its own write failed, JB_E_CASCADE_ROLLBACK when an earlier commit's did (every commit
   prepared after a failed one is rolled back, newest first, before it). A snapshot's ticket:
   JB_OK when it is in place, else why it failed (waiting ends an injected SNAPSHOT_DELAY).
   Borrows t. With the error injection WAL_DELAY set on this thread a commit's wait lasts until
   that is cleared elsewhere: use jb_ticket_state to poll instead. */
int jb_ticket_wait(jb_ticket *t);

/* HOT. Frees a ticket. Accepts NULL and a ticket of a closed engine. Consumes t. */
int jb_ticket_free(jb_ticket *t);

/* Commit numbers: asynchronous commits without a handle, for hot loops. A commit's number is a
   plain value — nothing to free — and says the same as a ticket for the engine's lifetime. */

/* HOT. As jb_txn_commit_async, but writes the commit's number to *out instead of a ticket:
   1, 2, 3 ... in commit order; 0 without a WAL (committed at once). Consumes tx. */
int jb_txn_commit_numbered(jb_txn *tx, uint64_t *out);

/* HOT. As jb_ticket_state, for commit number n of e. JB_E_BAD_HANDLE for a number e never
   gave. Borrows e. */
int jb_engine_commit_state(jb_engine *e, uint64_t n, uint32_t *out);

/* HOT. As jb_ticket_wait, for commit number n of e. Borrows e. */
int jb_engine_commit_wait(jb_engine *e, uint64_t n);

/* HOT. A file descriptor (an eventfd) that becomes readable whenever commits of e settle:
   an event loop polls it instead of blocking in jb_ticket_wait, reads its 8 bytes to clear
   it, then asks its tickets (jb_ticket_state, jb_engine_commit_state). Writes *fd. The engine
   owns the descriptor and closes it with itself: do not close it. JB_E_ILLEGAL_PARAMS for an
   engine without a log. Borrows e. */
int jb_engine_commit_fd(jb_engine *e, int *fd);

/* HOT. Writes to *out a pointer to two numbers the engine keeps current as the WAL writer's
   outcomes are applied: [0] every commit numbered up to it is committed or rolled back; [1] no
   commit numbered above it was rolled back. So commit n is committed when [1] < n <= [0]; a
   check that costs two loads instead of a call. Engine-owned; readable until the engine is
   closed. */
int jb_engine_commit_counters(jb_engine *e, const uint64_t **out);

/* HOT. Writes a snapshot of every space as of now (commits in flight reach the WAL first) on a
   background thread, while writes go on; once it is in place, older snapshots and the WAL files
   it covers are removed. With out NULL, waits for it: JB_OK, or JB_E_WAL_IO / JB_E_MEMORY when
   it failed (the engine keeps serving). Else caller owns *out, a ticket (JB_TICKET_IN_PROGRESS,
   then JB_TICKET_DONE or JB_TICKET_FAILED): free it with jb_ticket_free. A request while one runs
   joins it (one file, one outcome). JB_E_ILLEGAL_PARAMS without a dir. Borrows e. */
int jb_engine_snapshot(jb_engine *e, jb_ticket **out);

/* HOT. Applies what the WAL writer has finished (commits confirmed, failures rolled back).
   Every call that commits or reads a ticket does this too; call it from an idle loop. */
int jb_engine_poll(jb_engine *e);

/* HOT. The i-th (0-based) recovered functional index still waiting for its key function,
   written to *out; JB_E_NO_SUCH_INDEX past the end. Writes to its space are refused until
   jb_index_create_func creates it again with the same name and definition (the key function
   is the host's to supply: its name for the host is "<space>.<index>"). Borrows e. */
int jb_engine_awaiting(jb_engine *e, uint32_t i, jb_awaiting_index *out);

/* Triggers (before/after a write, on commit and rollback) are the Lua module's: it runs them
   in Lua around these calls, and the engine never calls back for them. A C host gets the same
   events pull-style: a write returns the new tuple (and jb_space_replaced the one it
   replaces) and jb_txn_commit/jb_engine_commit_state say how a transaction ended, so the host
   runs its own code around its calls, in its own order. */

/* HOT writes. Borrow fields (and the strings they point to) for the call. insert fails with
   JB_E_TUPLE_FOUND on a duplicate key in any unique index; replace overwrites the tuple with the
   same primary key; delete takes a primary key. The result (the new tuple for insert/replace,
   the deleted one for delete) is copied as tuple data (a MessagePack array) into buf when buf is
   not NULL: *len gets its size, 0 when delete found nothing. If it is larger than cap, the write
   still happens, nothing is copied and *len says the size needed; a cap of the engine's
   max_tuple_size always suffices. Borrows buf; len may be NULL when buf is NULL. */
int jb_space_insert(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                    uint8_t *buf, size_t cap, size_t *len);
int jb_space_replace(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                     uint8_t *buf, size_t cap, size_t *len);
int jb_space_delete(jb_space *s, jb_txn *tx, const jb_field *key, uint32_t count, uint8_t *buf,
                    size_t cap, size_t *len);

/* HOT. insert and replace for a space with functional indexes, with the new tuple's keys
   computed by the caller (keys, borrowed; it must hold the space's functional indexes in
   order). The plain functions work on such a space only when every key function is
   JB_CB_NATIVE; with a JB_CB_LUA one they give JB_E_REENTRY (a HOT entry cannot run it). */
int jb_space_insert_keyed(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                          const jb_keys *keys, uint8_t *buf, size_t cap, size_t *len);
int jb_space_replace_keyed(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                           const jb_keys *keys, uint8_t *buf, size_t cap, size_t *len);

/* HOT. Copies to buf the version that a replace of these fields would replace — the one with
   their primary key that tx (NULL: autocommit) sees — as jb_space_replace copies its result;
   *len = 0 when there is none. Borrows s, tx, fields, buf and len. */
int jb_space_replaced(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                      uint8_t *buf, size_t cap, size_t *len);

/* HOT. jb_space_replace_keyed given also old_keys (borrowed, shaped as keys): the keys of the
   replaced version as the caller computed them from jb_space_replaced's copy. An autocommit
   replace with nothing else open (no transaction, no older version anyone still reads) then
   removes the old version's entries at once instead of burying it for the drain — and, when
   nothing holds the old version and the new one has its size, overwrites it in place, touching
   only the indexes whose key changed. Keys that do not find the old entries make the index be
   searched for them: nothing is ever left behind. Elsewhere old_keys is not used. */
int jb_space_replace_rekeyed(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                             const jb_keys *keys, const jb_keys *old_keys, uint8_t *buf,
                             size_t cap, size_t *len);

/* HOT. Updates the tuple with a full key of unique index i (any unique index), as tx (NULL:
   autocommit) sees it, by ops (op_count of them, borrowed with their strings), in the engine:
   the new tuple is checked against the format and every index as a replace is, and a change
   of a primary-key field gives JB_E_PRIMARY_KEY_UPDATE. Nothing changes on any error. The new
   tuple is copied to buf as jb_space_replace copies its result; *len = 0 when no tuple has the
   key (nothing is written). flags: 0 or JB_WRITE_PREVIEW. On a space with a JB_CB_LUA key
   function, only a preview (then jb_space_replace_keyed). Borrows i, tx, key, ops, buf, len. */
int jb_index_update(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t key_count,
                    const jb_update_op *ops, uint32_t op_count, uint32_t flags, uint8_t *buf,
                    size_t cap, size_t *len);

/* HOT. Inserts the tuple (checked as an insert checks it) when no tuple has its primary key;
   otherwise updates that tuple by ops, as Tarantool's upsert does: an operation that fails on
   the tuple's data (missing field, wrong type, overflow, splice bounds) is skipped and the rest
   apply, and an update that would change the primary key is skipped whole; each skip is
   logged as a warning through the engine's logger. Malformed operations (unknown operator,
   unknown field name, a bad argument) and a result that breaks the format fail the call and
   change nothing.
   *len = 0 unless flags has JB_WRITE_PREVIEW (as jb_index_update; buf may be NULL
   otherwise). Borrows s, tx, fields, ops, buf, len. */
int jb_space_upsert(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count,
                    const jb_update_op *ops, uint32_t op_count, uint32_t flags, uint8_t *buf,
                    size_t cap, size_t *len);

/* HOT. Deletes the tuple with a full key of unique index i (any unique index) as
   jb_space_delete does by primary key. Borrows i, tx, key, buf, len. */
int jb_index_delete(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count, uint8_t *buf,
                    size_t cap, size_t *len);

/* HOT. A tuple of the index that tx (NULL: autocommit) sees, picked by seed, copied to buf as
   jb_index_get_data copies one (*len = 0 when it sees none). The same seed on the same tree
   picks the same tuple; every tuple can be picked, not all equally often (as Tarantool's
   index:random). Borrows i, tx, buf, len. */
int jb_index_random(jb_index *i, jb_txn *tx, uint64_t seed, uint8_t *buf, size_t cap, size_t *len);

/* HOT. Gets by a full key of a unique index. Borrows key. Writes NULL to *out when absent;
   otherwise the caller owns *out (release with jb_tuple_unref). */
int jb_index_get(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count,
                 jb_tuple **out);

/* HOT. Same as jb_index_get but copies the tuple data (a MessagePack array) into buf and writes
   its size to *len (0 when absent). JB_E_BUFFER_TOO_SMALL when it does not fit: *len then says
   the size needed. Borrows key and buf. */
int jb_index_get_data(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count,
                      uint8_t *buf, size_t cap, size_t *len);

/* HOT. Counts tuples an iterator of this type and key would return. Borrows key. */
int jb_index_count(jb_index *i, jb_txn *tx, uint32_t type, const jb_field *key,
                   uint32_t count, uint64_t *out);

/* HOT. Opens an iterator (it copies the key). Caller owns *out: free with jb_iter_free. It stays
   valid while the space changes: it continues after the last tuple it returned. In a
   transaction it reads that transaction's view, and fails with JB_E_ILLEGAL_PARAMS once the
   transaction has ended; without one, each step reads the latest committed data. */
int jb_index_iter(jb_index *i, jb_txn *tx, uint32_t type, const jb_field *key, uint32_t count,
                  jb_iter **out);

/* HOT. Next tuple, or NULL in *out at the end. Caller owns a non-NULL *out (jb_tuple_unref). */
int jb_iter_next(jb_iter *it, jb_tuple **out);

/* HOT. Fills out[0..cap) with up to cap next tuples and writes their number to *n (0 at the
   end). Caller owns every tuple written (jb_tuple_unref each). */
int jb_iter_next_batch(jb_iter *it, jb_tuple **out, uint32_t cap, uint32_t *n);

/* HOT. Copies the data (MessagePack arrays) of up to max next tuples back to back into buf,
   as many as fit in cap bytes, writes the end offset of the k-th into ends[k] and their number
   to *n (0 at the end). JB_E_BUFFER_TOO_SMALL when not even the next one fits (the message
   says its size); the iterator then does not move. Borrows buf and ends (max slots). The
   iterator continues after the last tuple of the batch; see jb_iter_rewind. */
int jb_iter_next_data_batch(jb_iter *it, uint8_t *buf, size_t cap, uint32_t *ends, uint32_t max,
                            uint32_t *n);

/* HOT. The fields fieldnos[0..nfields) (0-based field numbers) of up to max next tuples: the
   k-th field of the i-th tuple into out[i * nfields + k] (JB_FT_NIL past a tuple's end), and
   their number to *n (0 at the end). String and nested values are copied into buf (cap bytes)
   and point there; a tuple whose values do not fit in what is left ends the batch before it,
   and JB_E_BUFFER_TOO_SMALL when not even the first one's fit (the iterator then does not
   move). Borrows fieldnos, out (max * nfields slots) and buf. The iterator continues after
   the last tuple of the batch, as after jb_iter_next_data_batch (jb_iter_rewind applies). */
int jb_iter_next_fields_batch(jb_iter *it, const uint32_t *fieldnos, uint32_t nfields,
                              jb_field *out, uint32_t max, uint8_t *buf, size_t cap, uint32_t *n);

/* HOT. Makes the iterator continue after the k-th tuple (1-based) of its last batch instead of
   after its last: for a reader that used only k of them before the data changed. */
int jb_iter_rewind(jb_iter *it, uint32_t k);

/* HOT. Writes to *out a pointer to the engine's change counter, which grows with every write,
   delete and drop. Readable until jb_iter_free; a reader holding copies from a batch compares
   it to know whether they may be stale. The engine owns the counter. */
int jb_iter_changes(jb_iter *it, const uint64_t **out);

/* HOT. Same as jb_iter_next but copies the next tuple's data into buf (*len = 0 at the end).
   JB_E_BUFFER_TOO_SMALL when it does not fit (*len = size needed; the iterator does not move). */
int jb_iter_next_data(jb_iter *it, uint8_t *buf, size_t cap, size_t *len);

/* HOT. Frees the iterator. Accepts NULL and a stale handle. */
int jb_iter_free(jb_iter *it);

/* HOT. Number of fields of the tuple. Borrows t. */
int jb_tuple_field_count(jb_tuple *t, uint32_t *out);

/* HOT. Field fieldno (0-based) of t; JB_FT_NIL when fieldno is past the end. A string in *out
   points into the tuple: valid while the caller holds t. Borrows t. */
int jb_tuple_field(jb_tuple *t, uint32_t fieldno, jb_field *out);

/* HOT. Writes up to cap fields to out and the tuple's field count to *n. Borrows t. */
int jb_tuple_fields(jb_tuple *t, jb_field *out, uint32_t cap, uint32_t *n);

/* HOT. A second reference to the same tuple. Borrows t. Caller owns *out (jb_tuple_unref). */
int jb_tuple_ref(jb_tuple *t, jb_tuple **out);

/* HOT. Releases a tuple reference. Accepts NULL and a stale handle; works after engine close. */
int jb_tuple_unref(jb_tuple *t);

/* HOT. Tuple data (a MessagePack array, as copied by the _data functions): field fieldno
   (0-based) into *out, JB_FT_NIL past the end; strings point into data. The number of fields;
   all fields (up to cap) and the count. Pure functions of their arguments: they touch no engine
   and are safe on any thread. Malformed data gives JB_E_ILLEGAL_PARAMS. Borrow data. */
int jb_data_field(const uint8_t *data, size_t size, uint32_t fieldno, jb_field *out);
int jb_data_field_count(const uint8_t *data, size_t size, uint32_t *out);
int jb_data_fields(const uint8_t *data, size_t size, jb_field *out, uint32_t cap, uint32_t *n);

/* HOT. Encodes count fields as tuple data (a MessagePack array) into buf and its size into
   *len; JB_E_BUFFER_TOO_SMALL when it does not fit (*len then says the size needed). Pure, as
   the functions above. Borrows fields (and their strings); buf is the caller's. */
int jb_data_encode(const jb_field *fields, uint32_t count, uint8_t *buf, size_t cap, size_t *len);

/* HOT. Applies update operations to tuple data (as jb_index_update does, without a space:
   no format, so fields go by number only, and no index checks) and writes the result as
   jb_data_encode does. Pure, as the functions above. Borrows data, ops (and their strings). */
int jb_data_update(const uint8_t *data, size_t size, const jb_update_op *ops, uint32_t op_count,
                   uint8_t *buf, size_t cap, size_t *len);

/* HOT. Copies the tuple's data into buf; *len = size (JB_E_BUFFER_TOO_SMALL: size needed). */
int jb_tuple_data(jb_tuple *t, uint8_t *buf, size_t cap, size_t *len);


/* The library's functions as pointers (not in the C header): luaopen_jitbox binds the
   module to the library that loaded it through this. */
struct jb_lib {
    uint32_t (*jb_abi_version)(void);
    const char *(*jb_strerror)(int code);
    const char *(*jb_last_error)(void);
    int (*jb_errinj_set)(const char *name, int64_t value);
    int (*jb_errinj_get)(const char *name, int64_t *out);
    int (*jb_engine_open)(const jb_engine_opts *opts, jb_engine **out);
    int (*jb_engine_recovery)(jb_engine *e, char *buf, size_t cap, size_t *len);
    int (*jb_engine_path)(jb_engine *e, uint32_t which, char *buf, size_t cap, size_t *len);
    int (*jb_engine_close)(jb_engine *e);
    int (*jb_engine_stat)(jb_engine *e, jb_stat *out);
    int (*jb_engine_set_logger)(jb_engine *e, jb_log_fn fn, void *ctx, uint32_t kind);
    int (*jb_engine_run_deferred)(jb_engine *e, uint32_t max, uint32_t *ran);
    int (*jb_engine_pending)(jb_engine *e, uint32_t *out);
    int (*jb_engine_pending_counter)(jb_engine *e, const uint64_t **out);
    int (*jb_space_create)(jb_engine *e, const char *name, size_t name_len, const jb_format_field *format, uint32_t format_count, jb_space **out);
    int (*jb_space_find)(jb_engine *e, const char *name, size_t name_len, jb_space **out);
    int (*jb_space_drop)(jb_space *s);
    int (*jb_space_len)(jb_space *s, uint64_t *out);
    int (*jb_index_create)(jb_space *s, const char *name, size_t name_len, const jb_index_def *def, jb_index **out);
    int (*jb_index_create_func)(jb_space *s, const char *name, size_t name_len, const jb_index_def *def, const jb_func_def *func, jb_index **out);
    int (*jb_key_sink_push)(jb_key_sink *sink, const jb_field *parts, uint32_t count);
    int (*jb_key_sink_fail)(jb_key_sink *sink, const char *msg, size_t len);
    int (*jb_engine_buried_next)(jb_engine *e, uint64_t *space_id, const uint8_t **data, size_t *size);
    int (*jb_engine_buried_forget)(jb_engine *e, const uint8_t *data, const jb_keys *keys);
    int (*jb_space_id)(jb_space *s, uint64_t *out);
    int (*jb_engine_space_at)(jb_engine *e, uint32_t pos, jb_space **out);
    int (*jb_space_describe)(jb_space *s, jb_space_info *out);
    int (*jb_space_format_field)(jb_space *s, uint32_t i, jb_format_field *out);
    int (*jb_index_describe)(jb_index *i, jb_index_info *out);
    int (*jb_index_part)(jb_index *i, uint32_t k, jb_key_part *out);
    int (*jb_space_truncate)(jb_space *s);
    int (*jb_space_set_format)(jb_space *s, const jb_format_field *format, uint32_t format_count);
    int (*jb_space_rename)(jb_space *s, const char *name, size_t name_len);
    int (*jb_index_rename)(jb_index *i, const char *name, size_t name_len);
    int (*jb_index_find)(jb_space *s, const char *name, size_t name_len, jb_index **out);
    int (*jb_space_index_at)(jb_space *s, uint32_t pos, jb_index **out);
    int (*jb_index_name)(jb_index *i, const char **name, size_t *len);
    int (*jb_index_drop)(jb_index *i);
    int (*jb_txn_begin)(jb_engine *e, jb_txn **out);
    int (*jb_txn_commit)(jb_txn *tx);
    int (*jb_txn_rollback)(jb_txn *tx);
    int (*jb_txn_savepoint)(jb_txn *tx, uint64_t *out);
    int (*jb_txn_rollback_to_savepoint)(jb_txn *tx, uint64_t n);
    int (*jb_txn_statement_count)(jb_txn *tx, uint64_t *out);
    int (*jb_txn_commit_async)(jb_txn *tx, jb_ticket **out);
    int (*jb_ticket_state)(jb_ticket *t, uint32_t *out);
    int (*jb_ticket_wait)(jb_ticket *t);
    int (*jb_ticket_free)(jb_ticket *t);
    int (*jb_txn_commit_numbered)(jb_txn *tx, uint64_t *out);
    int (*jb_engine_commit_state)(jb_engine *e, uint64_t n, uint32_t *out);
    int (*jb_engine_commit_wait)(jb_engine *e, uint64_t n);
    int (*jb_engine_commit_fd)(jb_engine *e, int *fd);
    int (*jb_engine_commit_counters)(jb_engine *e, const uint64_t **out);
    int (*jb_engine_snapshot)(jb_engine *e, jb_ticket **out);
    int (*jb_engine_poll)(jb_engine *e);
    int (*jb_engine_awaiting)(jb_engine *e, uint32_t i, jb_awaiting_index *out);
    int (*jb_space_insert)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_replace)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_delete)(jb_space *s, jb_txn *tx, const jb_field *key, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_insert_keyed)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, const jb_keys *keys, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_replace_keyed)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, const jb_keys *keys, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_replaced)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_replace_rekeyed)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, const jb_keys *keys, const jb_keys *old_keys, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_index_update)(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t key_count, const jb_update_op *ops, uint32_t op_count, uint32_t flags, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_space_upsert)(jb_space *s, jb_txn *tx, const jb_field *fields, uint32_t count, const jb_update_op *ops, uint32_t op_count, uint32_t flags, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_index_delete)(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_index_random)(jb_index *i, jb_txn *tx, uint64_t seed, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_index_get)(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count, jb_tuple **out);
    int (*jb_index_get_data)(jb_index *i, jb_txn *tx, const jb_field *key, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_index_count)(jb_index *i, jb_txn *tx, uint32_t type, const jb_field *key, uint32_t count, uint64_t *out);
    int (*jb_index_iter)(jb_index *i, jb_txn *tx, uint32_t type, const jb_field *key, uint32_t count, jb_iter **out);
    int (*jb_iter_next)(jb_iter *it, jb_tuple **out);
    int (*jb_iter_next_batch)(jb_iter *it, jb_tuple **out, uint32_t cap, uint32_t *n);
    int (*jb_iter_next_data_batch)(jb_iter *it, uint8_t *buf, size_t cap, uint32_t *ends, uint32_t max, uint32_t *n);
    int (*jb_iter_next_fields_batch)(jb_iter *it, const uint32_t *fieldnos, uint32_t nfields, jb_field *out, uint32_t max, uint8_t *buf, size_t cap, uint32_t *n);
    int (*jb_iter_rewind)(jb_iter *it, uint32_t k);
    int (*jb_iter_changes)(jb_iter *it, const uint64_t **out);
    int (*jb_iter_next_data)(jb_iter *it, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_iter_free)(jb_iter *it);
    int (*jb_tuple_field_count)(jb_tuple *t, uint32_t *out);
    int (*jb_tuple_field)(jb_tuple *t, uint32_t fieldno, jb_field *out);
    int (*jb_tuple_fields)(jb_tuple *t, jb_field *out, uint32_t cap, uint32_t *n);
    int (*jb_tuple_ref)(jb_tuple *t, jb_tuple **out);
    int (*jb_tuple_unref)(jb_tuple *t);
    int (*jb_data_field)(const uint8_t *data, size_t size, uint32_t fieldno, jb_field *out);
    int (*jb_data_field_count)(const uint8_t *data, size_t size, uint32_t *out);
    int (*jb_data_fields)(const uint8_t *data, size_t size, jb_field *out, uint32_t cap, uint32_t *n);
    int (*jb_data_encode)(const jb_field *fields, uint32_t count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_data_update)(const uint8_t *data, size_t size, const jb_update_op *ops, uint32_t op_count, uint8_t *buf, size_t cap, size_t *len);
    int (*jb_tuple_data)(jb_tuple *t, uint8_t *buf, size_t cap, size_t *len);
};
]==]
