/* C tests of the jitbox API, built with -std=c99 -Wall -Wextra -Werror against libjitbox.a
   and run by tests/c_api.rs. Covers the normal path and misuse: NULL, double free, use after
   close, a stale iterator after its space was dropped; asynchronous commits and their tickets. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <jitbox.h>
#include <poll.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int failures = 0, passes = 0;

#define CHECK(cond) do { \
    if (cond) { passes++; } else { failures++; \
        fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, jb_last_error()); } \
} while (0)

static jb_field u(uint64_t v) { jb_field f; memset(&f, 0, sizeof f); f.type = JB_FT_UNSIGNED; f.v.u = v; return f; }
static jb_field s(const char *str) {
    jb_field f; memset(&f, 0, sizeof f); f.type = JB_FT_STRING; f.len = (uint32_t)strlen(str); f.v.s = str; return f;
}

static jb_engine *e;
static jb_space *sp;
static jb_index *pk, *by_name;

static void setup(void) {
    jb_engine_opts opts;
    jb_format_field fmt[2];
    jb_key_part pk_parts[1] = {{0}}, name_parts[1] = {{0}};
    jb_index_def def = {0};
    memset(&opts, 0, sizeof opts);
    opts.memory_limit = 32u << 20;
    CHECK(jb_engine_open(&opts, &e) == JB_OK);
    memset(fmt, 0, sizeof fmt);
    fmt[0].name = "id"; fmt[0].name_len = 2; fmt[0].type = JB_FT_UNSIGNED;
    fmt[1].name = "name"; fmt[1].name_len = 4; fmt[1].type = JB_FT_STRING;
    CHECK(jb_space_create(e, "users", 5, fmt, 2, &sp) == JB_OK);
    pk_parts[0].fieldno = 0; pk_parts[0].type = JB_FT_UNSIGNED;
    def.parts = pk_parts; def.part_count = 1; def.unique = 1;
    CHECK(jb_index_create(sp, "pk", 2, &def, &pk) == JB_OK);
    name_parts[0].fieldno = 1; name_parts[0].type = JB_FT_STRING;
    def.parts = name_parts; def.unique = 0;
    CHECK(jb_index_create(sp, "by_name", 7, &def, &by_name) == JB_OK);
}

static void test_crud(void) {
    jb_field t[2], key, f;
    jb_tuple *tu = NULL, *tu2 = NULL;
    uint8_t buf[256];
    size_t len = 0;
    uint64_t n = 0;
    uint32_t count = 0;
    t[0] = u(1); t[1] = s("ann");
    CHECK(jb_space_insert(sp, NULL, t, 2, buf, sizeof buf, &len) == JB_OK);
    CHECK(len > 0 && buf[0] == 0x92);
    CHECK(jb_space_insert(sp, NULL, t, 2, NULL, 0, NULL) == JB_E_TUPLE_FOUND);
    CHECK(strstr(jb_last_error(), "duplicate key [1]") != NULL);
    t[0] = u(2); t[1] = s("bob");
    CHECK(jb_space_replace(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    key = u(2);
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_tuple_field_count(tu, &count) == JB_OK && count == 2);
    CHECK(jb_tuple_field(tu, 1, &f) == JB_OK && f.type == JB_FT_STRING && f.len == 3 && memcmp(f.v.s, "bob", 3) == 0);
    CHECK(jb_tuple_field(tu, 9, &f) == JB_OK && f.type == JB_FT_NIL);
    CHECK(jb_tuple_ref(tu, &tu2) == JB_OK);
    CHECK(jb_tuple_unref(tu) == JB_OK);
    CHECK(jb_tuple_unref(tu) == JB_E_BAD_HANDLE); /* double free: an error, not a crash */
    CHECK(jb_tuple_unref(tu2) == JB_OK);
    key = u(3);
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu == NULL);
    CHECK(jb_space_len(sp, &n) == JB_OK && n == 2);
    key = u(1);
    CHECK(jb_space_delete(sp, NULL, &key, 1, buf, sizeof buf, &len) == JB_OK && len > 0);
    CHECK(jb_space_delete(sp, NULL, &key, 1, buf, sizeof buf, &len) == JB_OK && len == 0);
    CHECK(jb_space_len(sp, &n) == JB_OK && n == 1);
}

static void test_iterators(void) {
    jb_field t[2], key;
    jb_iter *it = NULL;
    jb_tuple *tu = NULL, *batch[8];
    uint32_t got = 0;
    uint64_t count = 0;
    int i, seen = 0;
    char name[16];
    for (i = 10; i < 30; i++) {
        sprintf(name, "n%d", i % 3);
        t[0] = u((uint64_t)i); t[1] = s(name);
        CHECK(jb_space_insert(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    }
    key = s("n1");
    CHECK(jb_index_count(by_name, NULL, JB_ITER_EQ, &key, 1, &count) == JB_OK && count == 7);
    CHECK(jb_index_iter(by_name, NULL, JB_ITER_EQ, &key, 1, &it) == JB_OK);
    while (jb_iter_next(it, &tu) == JB_OK && tu != NULL) { seen++; jb_tuple_unref(tu); }
    CHECK(seen == 7);
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(jb_iter_free(it) == JB_E_BAD_HANDLE);
    key = u(25);
    CHECK(jb_index_iter(pk, NULL, JB_ITER_LT, &key, 1, &it) == JB_OK);
    CHECK(jb_iter_next_batch(it, batch, 8, &got) == JB_OK && got == 8);
    for (i = 0; i < (int)got; i++) {
        jb_field f;
        CHECK(jb_tuple_field(batch[i], 0, &f) == JB_OK && f.v.u == (uint64_t)(24 - i));
        jb_tuple_unref(batch[i]);
    }
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(jb_index_iter(pk, NULL, 99, NULL, 0, &it) == JB_E_ILLEGAL_PARAMS);
}

/* Batches of tuple data: offsets, a buffer too small, rewinding, the change counter. */
static void test_data_batches(void) {
    jb_field key = u(10), t[2];
    jb_iter *it = NULL;
    uint8_t buf[256];
    uint32_t ends[8], got = 0;
    const uint64_t *changes = NULL;
    uint64_t before;
    jb_field f;
    CHECK(jb_index_iter(pk, NULL, JB_ITER_GE, &key, 1, &it) == JB_OK);
    CHECK(jb_iter_changes(it, &changes) == JB_OK && changes != NULL);
    CHECK(jb_iter_changes(it, NULL) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_iter_next_data_batch(it, buf, 2, ends, 8, &got) == JB_E_BUFFER_TOO_SMALL);
    CHECK(jb_iter_next_data_batch(it, NULL, 256, ends, 8, &got) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_iter_rewind(it, 1) == JB_E_ILLEGAL_PARAMS); /* no batch yet */
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 4, &got) == JB_OK && got == 4);
    CHECK(ends[0] > 0 && ends[0] < ends[1] && ends[2] < ends[3]);
    CHECK(jb_data_field(buf + ends[2], ends[3] - ends[2], 0, &f) == JB_OK && f.v.u == 13);
    CHECK(jb_iter_rewind(it, 0) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_iter_rewind(it, 5) == JB_E_ILLEGAL_PARAMS);
    /* Only two of the four were used when the data changed: continue after the second. */
    before = *changes;
    t[0] = u(12); t[1] = s("changed");
    CHECK(jb_space_replace(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    CHECK(*changes == before + 1);
    CHECK(jb_iter_rewind(it, 2) == JB_OK);
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 8, &got) == JB_OK && got == 8);
    CHECK(jb_data_field(buf, ends[0], 0, &f) == JB_OK && f.v.u == 12);
    CHECK(jb_data_field(buf, ends[0], 1, &f) == JB_OK && f.len == 7 && memcmp(f.v.s, "changed", 7) == 0);
    /* 20 tuples from 10: 2 + 8 so far, 10 left, then the end. */
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 8, &got) == JB_OK && got == 8);
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 8, &got) == JB_OK && got == 2);
    CHECK(jb_data_field(buf + ends[0], ends[1] - ends[0], 0, &f) == JB_OK && f.v.u == 29);
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 8, &got) == JB_OK && got == 0);
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(jb_iter_next_data_batch(it, buf, sizeof buf, ends, 8, &got) == JB_E_BAD_HANDLE);
    CHECK(jb_iter_rewind(it, 1) == JB_E_BAD_HANDLE);
}

/* Batches of projected fields: values in place, strings in the buffer, a buffer too small. */
static void test_field_batches(void) {
    jb_field key = u(10), out[8 * 3];
    jb_iter *it = NULL;
    uint8_t buf[256];
    uint32_t fieldnos[3] = {1, 0, 7}, got = 99;
    CHECK(jb_index_iter(pk, NULL, JB_ITER_GE, &key, 1, &it) == JB_OK);
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 0, out, 8, buf, sizeof buf, &got) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_iter_next_fields_batch(it, NULL, 3, out, 8, buf, sizeof buf, &got) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 3, NULL, 8, buf, sizeof buf, &got) == JB_E_ILLEGAL_PARAMS);
    /* Not even the first row's name fits: an error, and the iterator stays. */
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 3, out, 8, buf, 1, &got) == JB_E_BUFFER_TOO_SMALL);
    CHECK(strstr(jb_last_error(), "2 bytes") != NULL);
    /* Room for the names of 10 and 11, not for 12's "changed": the batch ends before it. */
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 3, out, 8, buf, 5, &got) == JB_OK && got == 2);
    CHECK(out[0].type == JB_FT_STRING && out[0].len == 2 && memcmp(out[0].v.s, "n1", 2) == 0);
    CHECK(out[0].v.s == (const char *)buf);
    CHECK(out[1].type == JB_FT_UNSIGNED && out[1].v.u == 10);
    CHECK(out[2].type == JB_FT_NIL);
    CHECK(out[4].v.u == 11 && out[3].v.s == (const char *)buf + 2);
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 3, out, 8, buf, sizeof buf, &got) == JB_OK && got == 8);
    CHECK(out[0].len == 7 && memcmp(out[0].v.s, "changed", 7) == 0 && out[1].v.u == 12);
    CHECK(out[3 * 7 + 1].v.u == 19);
    /* Only the first of them was used: continue after 12. */
    CHECK(jb_iter_rewind(it, 1) == JB_OK);
    CHECK(jb_iter_next_fields_batch(it, fieldnos + 1, 1, out, 8, buf, sizeof buf, &got) == JB_OK && got == 8);
    CHECK(out[0].v.u == 13 && out[7].v.u == 20);
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(jb_iter_next_fields_batch(it, fieldnos, 3, out, 8, buf, sizeof buf, &got) == JB_E_BAD_HANDLE);
}

static void test_misuse(void) {
    jb_tuple *tu = NULL;
    jb_iter *it = NULL;
    jb_space *tmp = NULL;
    jb_index *tmp_pk = NULL;
    jb_key_part part = {0};
    jb_index_def def = {0};
    jb_field key = u(1), bad;
    uint64_t n = 0;
    CHECK(jb_index_get(NULL, NULL, &key, 1, &tu) == JB_E_BAD_HANDLE);
    CHECK(jb_space_len(sp, NULL) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_space_find(e, "nope", 4, &tmp) == JB_E_NO_SUCH_SPACE);
    CHECK(jb_index_find(sp, "nope", 4, &tmp_pk) == JB_E_NO_SUCH_INDEX);
    memset(&bad, 0, sizeof bad); bad.type = 1234;
    CHECK(jb_space_insert(sp, NULL, &bad, 1, NULL, 0, NULL) == JB_E_FIELD_TYPE);
    CHECK(jb_iter_free(NULL) == JB_OK && jb_tuple_unref(NULL) == JB_OK);
    /* a stale iterator after its space was dropped */
    CHECK(jb_space_create(e, "tmp", 3, NULL, 0, &tmp) == JB_OK);
    part.fieldno = 0; part.type = JB_FT_UNSIGNED;
    def.parts = &part; def.part_count = 1; def.unique = 1;
    CHECK(jb_index_create(tmp, "pk", 2, &def, &tmp_pk) == JB_OK);
    CHECK(jb_space_insert(tmp, NULL, &key, 1, NULL, 0, NULL) == JB_OK);
    CHECK(jb_index_iter(tmp_pk, NULL, JB_ITER_ALL, NULL, 0, &it) == JB_OK);
    CHECK(jb_space_drop(tmp) == JB_OK);
    CHECK(jb_iter_next(it, &tu) == JB_E_BAD_HANDLE);
    CHECK(jb_space_len(tmp, &n) == JB_E_BAD_HANDLE);
    CHECK(jb_space_drop(tmp) == JB_E_BAD_HANDLE);
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(strcmp(jb_strerror(JB_E_TUPLE_FOUND), "JB_E_TUPLE_FOUND") == 0);
    CHECK(strcmp(jb_strerror(12345), "JB_E_UNKNOWN") == 0);
}

/* Transactions: snapshot reads, own writes, first committer wins, handle lifetime. */
static void test_transactions(void) {
    jb_txn *t1 = NULL, *t2 = NULL;
    jb_iter *it = NULL;
    jb_tuple *tu = NULL;
    jb_field row[2], key = u(500), f;
    jb_engine *other = NULL;
    jb_space *osp = NULL;
    uint64_t n = 0;
    CHECK(jb_txn_begin(e, &t1) == JB_OK && t1 != NULL);
    CHECK(jb_txn_begin(NULL, &t2) == JB_E_BAD_HANDLE);
    row[0] = u(500); row[1] = s("tx");
    CHECK(jb_space_insert(sp, t1, row, 2, NULL, 0, NULL) == JB_OK);
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu == NULL); /* not committed */
    CHECK(jb_index_get(pk, t1, &key, 1, &tu) == JB_OK && tu != NULL);   /* own write */
    CHECK(jb_tuple_unref(tu) == JB_OK);
    CHECK(jb_index_iter(pk, t1, JB_ITER_EQ, &key, 1, &it) == JB_OK);
    CHECK(jb_txn_commit(t1) == JB_OK);
    CHECK(jb_txn_commit(t1) == JB_E_BAD_HANDLE);   /* ended: its handle is gone */
    CHECK(jb_txn_rollback(t1) == JB_E_BAD_HANDLE);
    CHECK(jb_txn_rollback(NULL) == JB_OK);
    CHECK(jb_iter_next(it, &tu) == JB_E_ILLEGAL_PARAMS); /* its transaction ended */
    CHECK(jb_iter_free(it) == JB_OK);
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_tuple_unref(tu) == JB_OK);
    /* Two writers of one key: the first to commit wins. */
    CHECK(jb_txn_begin(e, &t1) == JB_OK && jb_txn_begin(e, &t2) == JB_OK);
    row[1] = s("one");
    CHECK(jb_space_replace(sp, t1, row, 2, NULL, 0, NULL) == JB_OK);
    row[1] = s("two");
    CHECK(jb_space_replace(sp, t2, row, 2, NULL, 0, NULL) == JB_OK);
    CHECK(jb_txn_commit(t2) == JB_OK);
    CHECK(jb_txn_commit(t1) == JB_E_CONFLICT);
    CHECK(strstr(jb_last_error(), "[500]") != NULL);
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_tuple_field(tu, 1, &f) == JB_OK && f.len == 3 && memcmp(f.v.s, "two", 3) == 0);
    CHECK(jb_tuple_unref(tu) == JB_OK);
    /* Rollback undoes; a transaction is used only with its own engine's objects. */
    CHECK(jb_txn_begin(e, &t1) == JB_OK);
    CHECK(jb_space_delete(sp, t1, &key, 1, NULL, 0, NULL) == JB_OK);
    CHECK(jb_index_count(pk, t1, JB_ITER_EQ, &key, 1, &n) == JB_OK && n == 0);
    CHECK(jb_engine_open(NULL, &other) == JB_OK);
    CHECK(jb_space_create(other, "o", 1, NULL, 0, &osp) == JB_OK);
    CHECK(jb_space_insert(osp, t1, row, 2, NULL, 0, NULL) == JB_E_BAD_HANDLE);
    CHECK(strstr(jb_last_error(), "another engine") != NULL);
    CHECK(jb_space_insert(sp, (jb_txn *)osp, row, 2, NULL, 0, NULL) == JB_E_BAD_HANDLE);
    /* Reads look the index and the transaction up together: the same checks. */
    CHECK(jb_txn_begin(other, &t2) == JB_OK);
    CHECK(jb_index_get(pk, t2, &key, 1, &tu) == JB_E_BAD_HANDLE);
    CHECK(strstr(jb_last_error(), "another engine") != NULL);
    CHECK(jb_index_count(pk, (jb_txn *)osp, JB_ITER_EQ, &key, 1, &n) == JB_E_BAD_HANDLE);
    CHECK(strstr(jb_last_error(), "transaction") != NULL);
    CHECK(jb_index_count((jb_index *)t1, t1, JB_ITER_EQ, &key, 1, &n) == JB_E_BAD_HANDLE);
    CHECK(strstr(jb_last_error(), "index") != NULL);
    CHECK(jb_txn_rollback(t2) == JB_OK);
    CHECK(jb_txn_rollback(t1) == JB_OK);
    CHECK(jb_index_count(pk, NULL, JB_ITER_EQ, &key, 1, &n) == JB_OK && n == 1);
    CHECK(jb_engine_close(other) == JB_OK);
    /* Closing an engine ends its transactions; their handles still roll back quietly. */
    CHECK(jb_engine_open(NULL, &other) == JB_OK);
    CHECK(jb_txn_begin(other, &t2) == JB_OK);
    CHECK(jb_engine_close(other) == JB_OK);
    CHECK(jb_txn_commit(t2) == JB_E_CLOSED);
    CHECK(jb_txn_begin(other, &t2) == JB_E_CLOSED);
}

/* A replace may overwrite the old version in place, but never one a handle holds;
   jb_space_replaced peeks at the version a replace would replace. */
static void test_replace_in_place(void) {
    jb_field t[2], key, f;
    jb_tuple *held = NULL, *now = NULL;
    jb_keys none;
    uint8_t buf[256];
    size_t len = 0;
    t[0] = u(900); t[1] = s("old");
    CHECK(jb_space_insert(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    key = u(900);
    CHECK(jb_index_get(pk, NULL, &key, 1, &held) == JB_OK && held != NULL);
    t[1] = s("new");
    CHECK(jb_space_replace(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    CHECK(jb_tuple_field(held, 1, &f) == JB_OK && f.len == 3 && memcmp(f.v.s, "old", 3) == 0);
    CHECK(jb_tuple_unref(held) == JB_OK);
    t[1] = s("NEW"); /* same size, nothing holds it: in place */
    CHECK(jb_space_replace(sp, NULL, t, 2, NULL, 0, NULL) == JB_OK);
    CHECK(jb_index_get(pk, NULL, &key, 1, &now) == JB_OK && now != NULL);
    CHECK(jb_tuple_field(now, 1, &f) == JB_OK && f.len == 3 && memcmp(f.v.s, "NEW", 3) == 0);
    CHECK(jb_tuple_unref(now) == JB_OK);
    t[1] = s("whatever");
    CHECK(jb_space_replaced(sp, NULL, t, 2, buf, sizeof buf, &len) == JB_OK && len > 0);
    CHECK(memcmp(buf + len - 3, "NEW", 3) == 0);
    t[0] = u(901);
    CHECK(jb_space_replaced(sp, NULL, t, 2, buf, sizeof buf, &len) == JB_OK && len == 0);
    CHECK(jb_space_replaced(sp, NULL, t, 1, buf, 2, &len) == JB_OK); /* only the key matters */
    t[0] = s("x");
    CHECK(jb_space_replaced(sp, NULL, t, 2, buf, sizeof buf, &len) == JB_E_FIELD_TYPE);
    CHECK(strstr(jb_last_error(), "primary key") != NULL);
    memset(&none, 0, sizeof none);
    t[0] = u(900);
    CHECK(jb_space_replace_rekeyed(sp, NULL, t, 2, &none, NULL, NULL, 0, NULL) == JB_E_ILLEGAL_PARAMS);
    CHECK(strstr(jb_last_error(), "old_keys") != NULL);
}

static void test_close(void) {
    jb_tuple *tu = NULL;
    jb_field key = u(2), f;
    uint64_t n = 0;
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_engine_close(e) == JB_OK);
    CHECK(jb_engine_close(e) == JB_OK);           /* twice: fine */
    CHECK(jb_space_len(sp, &n) == JB_E_CLOSED);   /* use after close */
    CHECK(jb_index_get(pk, NULL, &key, 1, &tu) == JB_E_CLOSED);
    CHECK(jb_tuple_field(tu, 1, &f) == JB_OK && f.len == 3); /* held tuple outlives the engine */
    CHECK(jb_tuple_unref(tu) == JB_OK);
}

/* A WAL engine in a fresh directory with space "t" {id} (primary key pk). */
static jb_engine *open_wal(const char *dir, jb_space **ws, jb_index **wpk) {
    jb_engine_opts opts;
    jb_engine *w = NULL;
    jb_key_part part = {0};
    jb_index_def def = {0};
    jb_format_field fmt;
    memset(&opts, 0, sizeof opts);
    opts.dir = dir; opts.dir_len = (uint32_t)strlen(dir);
    opts.wal_mode = JB_WAL_WRITE; opts.wal_queue_max_size = 1; /* one commit in flight */
    CHECK(jb_engine_open(&opts, &w) == JB_OK);
    if (jb_space_find(w, "t", 1, ws) != JB_OK) {
        memset(&fmt, 0, sizeof fmt);
        fmt.name = "id"; fmt.name_len = 2; fmt.type = JB_FT_UNSIGNED;
        CHECK(jb_space_create(w, "t", 1, &fmt, 1, ws) == JB_OK);
        part.fieldno = 0; part.type = JB_FT_UNSIGNED;
        def.parts = &part; def.part_count = 1; def.unique = 1;
        CHECK(jb_index_create(*ws, "pk", 2, &def, wpk) == JB_OK);
    }
    CHECK(jb_index_find(*ws, "pk", 2, wpk) == JB_OK);
    return w;
}

static jb_ticket *insert_async(jb_engine *w, jb_space *ws, uint64_t id) {
    jb_txn *tx = NULL;
    jb_ticket *tk = NULL;
    jb_field f = u(id);
    CHECK(jb_txn_begin(w, &tx) == JB_OK);
    CHECK(jb_space_insert(ws, tx, &f, 1, NULL, 0, NULL) == JB_OK);
    CHECK(jb_txn_commit_async(tx, &tk) == JB_OK);
    return tk;
}

static uint64_t insert_numbered(jb_engine *w, jb_space *ws, uint64_t id) {
    jb_txn *tx = NULL;
    uint64_t n = 0;
    jb_field f = u(id);
    CHECK(jb_txn_begin(w, &tx) == JB_OK);
    CHECK(jb_space_insert(ws, tx, &f, 1, NULL, 0, NULL) == JB_OK);
    CHECK(jb_txn_commit_numbered(tx, &n) == JB_OK);
    return n;
}

/* Commit numbers say what tickets say, with nothing to free. */
static void test_commit_numbers(void) {
    char dir[] = "/tmp/jitbox-c-XXXXXX";
    jb_space *ws = NULL;
    jb_index *wpk = NULL;
    uint64_t n1, n2, n3;
    const uint64_t *c = NULL;
    uint32_t state = 0;
    jb_engine *w;
    CHECK(mkdtemp(dir) != NULL);
    w = open_wal(dir, &ws, &wpk);
    CHECK(jb_engine_commit_counters(w, &c) == JB_OK && c != NULL);
    CHECK(jb_engine_commit_counters(w, NULL) == JB_E_ILLEGAL_PARAMS);
    n1 = insert_numbered(w, ws, 1);
    CHECK(n1 >= 1);
    CHECK(jb_engine_commit_wait(w, n1) == JB_OK);
    CHECK(c[1] < n1 && n1 <= c[0]); /* committed, by the counters alone */
    CHECK(jb_engine_commit_state(w, n1, &state) == JB_OK && state == JB_TICKET_COMMITTED);
    CHECK(jb_errinj_set("WAL_DELAY", 1) == JB_OK);
    n2 = insert_numbered(w, ws, 2);
    n3 = insert_numbered(w, ws, 3);
    CHECK(n2 == n1 + 1 && n3 == n2 + 1);
    CHECK(jb_engine_commit_state(w, n2, &state) == JB_OK && state == JB_TICKET_WAITING);
    CHECK(jb_engine_commit_state(w, n3, &state) == JB_OK && state == JB_TICKET_QUEUED);
    CHECK(c[0] < n2); /* not settled yet */
    CHECK(jb_errinj_set("WAL_WRITE", 1) == JB_OK);
    CHECK(jb_errinj_set("WAL_DELAY", 0) == JB_OK);
    CHECK(jb_engine_commit_wait(w, n3) == JB_E_CASCADE_ROLLBACK);
    CHECK(jb_engine_commit_wait(w, n2) == JB_E_WAL_IO);
    CHECK(jb_engine_commit_state(w, n2, &state) == JB_OK && state == JB_TICKET_ROLLED_BACK);
    CHECK(c[1] == n3 && c[0] == n3); /* both rolled back: the counters do not call them committed */
    CHECK(jb_errinj_set("WAL_WRITE", 0) == JB_OK);
    n3 = insert_numbered(w, ws, 5);
    CHECK(jb_engine_commit_wait(w, n3) == JB_OK && c[1] < n3 && n3 <= c[0]);
    CHECK(jb_engine_commit_state(w, n1, &state) == JB_OK && state == JB_TICKET_COMMITTED);
    /* Numbers never given, a NULL out-pointer, a wrong handle: errors, nothing changes. */
    CHECK(jb_engine_commit_state(w, n3 + 1, &state) == JB_E_BAD_HANDLE);
    CHECK(jb_engine_commit_wait(w, n3 + 100) == JB_E_BAD_HANDLE);
    CHECK(jb_engine_commit_state(w, n1, NULL) == JB_E_ILLEGAL_PARAMS);
    CHECK(jb_engine_close(w) == JB_OK);
    CHECK(jb_engine_commit_state(w, n1, &state) == JB_E_CLOSED);
    {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
    }
}

static void test_tickets(void) {
    char dir[] = "/tmp/jitbox-c-XXXXXX";
    jb_space *ws = NULL;
    jb_index *wpk = NULL;
    jb_ticket *tk, *tk2, *tk3;
    jb_stat st;
    jb_tuple *tu = NULL;
    jb_field key;
    uint32_t state = 0;
    jb_engine *w;
    CHECK(mkdtemp(dir) != NULL);
    w = open_wal(dir, &ws, &wpk);
    tk = insert_async(w, ws, 1);
    CHECK(jb_ticket_wait(tk) == JB_OK);
    CHECK(jb_ticket_state(tk, &state) == JB_OK && state == JB_TICKET_COMMITTED);
    CHECK(jb_ticket_free(tk) == JB_OK);
    CHECK(jb_ticket_free(NULL) == JB_OK);
    /* Two commits behind a stalled writer; then the write fails: newest rolls back first. */
    CHECK(jb_errinj_set("WAL_DELAY", 1) == JB_OK);
    tk = insert_async(w, ws, 2);
    tk2 = insert_async(w, ws, 3);
    CHECK(jb_ticket_state(tk, &state) == JB_OK && state == JB_TICKET_WAITING);
    CHECK(jb_ticket_state(tk2, &state) == JB_OK && state == JB_TICKET_QUEUED);
    CHECK(jb_errinj_set("WAL_WRITE", 1) == JB_OK);
    CHECK(jb_errinj_set("WAL_DELAY", 0) == JB_OK);
    CHECK(jb_ticket_wait(tk2) == JB_E_CASCADE_ROLLBACK);
    CHECK(jb_ticket_wait(tk) == JB_E_WAL_IO);
    CHECK(jb_ticket_state(tk, &state) == JB_OK && state == JB_TICKET_ROLLED_BACK);
    CHECK(jb_errinj_set("WAL_WRITE", 0) == JB_OK);
    CHECK(jb_engine_stat(w, &st) == JB_OK && st.wal_rolled_back == 2 && st.wal_failed_writes == 1);
    CHECK(st.wal_state == JB_WAL_FAILED); /* until the next write */
    {
        char path[256];
        size_t plen = 0;
        CHECK(jb_engine_path(w, JB_PATH_DIR, path, sizeof path, &plen) == JB_OK);
        CHECK(plen == strlen(dir) && memcmp(path, dir, plen) == 0);
        CHECK(jb_engine_path(w, JB_PATH_WAL_FILE, path, 4, &plen) == JB_E_BUFFER_TOO_SMALL);
        CHECK(plen == strlen(dir) + strlen("/00000000000000000001.wal"));
        CHECK(jb_engine_path(w, JB_PATH_WAL_FILE, path, sizeof path, &plen) == JB_OK);
        CHECK(memcmp(path + strlen(dir), "/00000000000000000001.wal", plen - strlen(dir)) == 0);
        CHECK(jb_engine_path(w, 7, path, sizeof path, &plen) == JB_E_ILLEGAL_PARAMS);
        CHECK(strstr(jb_last_error(), "which = 7") != NULL);
    }
    CHECK(jb_ticket_free(tk) == JB_OK && jb_ticket_free(tk2) == JB_OK);
    CHECK(jb_ticket_state((jb_ticket *)wpk, &state) == JB_E_BAD_HANDLE); /* wrong kind */
    /* A ticket outlives its engine: reading it says closed, freeing it is fine. */
    tk3 = insert_async(w, ws, 4);
    CHECK(jb_engine_close(w) == JB_OK);
    CHECK(jb_ticket_state(tk3, &state) == JB_E_CLOSED);
    CHECK(jb_ticket_free(tk3) == JB_OK);
    /* Reopened: exactly what was committed (closing completed the last commit). */
    w = open_wal(dir, &ws, &wpk);
    key = u(1); CHECK(jb_index_get(wpk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_tuple_unref(tu) == JB_OK);
    key = u(2); CHECK(jb_index_get(wpk, NULL, &key, 1, &tu) == JB_OK && tu == NULL);
    key = u(3); CHECK(jb_index_get(wpk, NULL, &key, 1, &tu) == JB_OK && tu == NULL);
    key = u(4); CHECK(jb_index_get(wpk, NULL, &key, 1, &tu) == JB_OK && tu != NULL);
    CHECK(jb_tuple_unref(tu) == JB_OK);
    CHECK(jb_engine_stat(w, &st) == JB_OK && st.wal_state == JB_WAL_IDLE);
    {
        /* An event loop's wait: the fd turns readable once the commit settled. */
        int fd = -1, fd2 = -1;
        uint64_t count = 0;
        struct pollfd p;
        CHECK(jb_engine_commit_fd(w, &fd) == JB_OK && fd >= 0);
        CHECK(jb_engine_commit_fd(w, &fd2) == JB_OK && fd2 == fd);
        CHECK(read(fd, &count, sizeof count) == -1); /* nothing settled since it was made */
        tk = insert_async(w, ws, 5);
        p.fd = fd; p.events = POLLIN; p.revents = 0;
        CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN));
        CHECK(read(fd, &count, sizeof count) == sizeof count && count >= 1);
        CHECK(jb_ticket_state(tk, &state) == JB_OK && state == JB_TICKET_COMMITTED);
        CHECK(jb_ticket_free(tk) == JB_OK);
    }
    CHECK(jb_engine_close(w) == JB_OK);
    {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
    }
}

int main(void) {
    CHECK(jb_abi_version() == JITBOX_ABI_VERSION);
    setup();
    test_crud();
    test_iterators();
    test_data_batches();
    test_field_batches();
    test_misuse();
    test_transactions();
    test_replace_in_place();
    test_close();
    test_tickets();
    test_commit_numbers();
    printf("c api: %d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
