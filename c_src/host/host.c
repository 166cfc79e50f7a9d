/* A C host that links libjitbox (static or shared), embeds LuaJIT, opens an engine in C,
   hands it to a Lua script (jitbox.attach) and shows that both sides see the same data.
   The Lua module comes with the library (luaopen_jitbox): no Lua files, no link flags.
   Build: cc host.c -Ic_src/include target/release/libjitbox.a -lluajit-5.1 -lpthread -ldl -lm */
#include <jitbox.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

static jb_field u(uint64_t v) { jb_field f; memset(&f, 0, sizeof f); f.type = JB_FT_UNSIGNED; f.v.u = v; return f; }
static jb_field s(const char *str) {
    jb_field f; memset(&f, 0, sizeof f); f.type = JB_FT_STRING; f.len = (uint32_t)strlen(str); f.v.s = str; return f;
}

#define TRY(call) do { int rc_ = (call); if (rc_ != JB_OK) { \
    fprintf(stderr, "%s failed: %s: %s\n", #call, jb_strerror(rc_), jb_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    const char *script = argc > 1 ? argv[1] : "c_src/host/host.lua";
    jb_engine *e;
    jb_space *sp;
    jb_index *pk;
    jb_key_part part = { 0, JB_FT_UNSIGNED, 0, 0, NULL, 0, 0 };
    jb_index_def def = {0};
    jb_field t[2], key, f;
    jb_tuple *tu = NULL;
    lua_State *L;

    TRY(jb_engine_open(NULL, &e));
    TRY(jb_space_create(e, "users", 5, NULL, 0, &sp));
    def.parts = &part; def.part_count = 1; def.unique = 1;
    TRY(jb_index_create(sp, "pk", 2, &def, &pk));
    t[0] = u(1); t[1] = s("inserted by C");
    TRY(jb_space_insert(sp, NULL, t, 2, NULL, 0, NULL));

    L = luaL_newstate();
    luaL_openlibs(L);
    /* require('jitbox') loads the module the library carries. */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_jitbox);
    lua_setfield(L, -2, "jitbox");
    lua_pop(L, 2);
    lua_pushlightuserdata(L, e);
    lua_setglobal(L, "ENGINE");
    if (luaL_dofile(L, script) != 0) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        return 1;
    }
    /* An error nothing in Lua catches reaches the host as a string it can print. */
    if (luaL_dostring(L, "local jitbox = require('jitbox')\n"
                         "jitbox.attach(ENGINE).space.users:insert{1, 'again'}") == 0) {
        fprintf(stderr, "a duplicate insert from Lua succeeded\n");
        return 1;
    }
    if (lua_tostring(L, -1) == NULL || strstr(lua_tostring(L, -1), "jitbox: TUPLE_FOUND: ") == NULL) {
        fprintf(stderr, "the host cannot read the uncaught error: %s\n",
                lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
        return 1;
    }
    printf("host reads: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    /* The Lua script inserted id 2; C reads it back. */
    key = u(2);
    TRY(jb_index_get(pk, NULL, &key, 1, &tu));
    if (tu == NULL) { fprintf(stderr, "C does not see the tuple Lua inserted\n"); return 1; }
    TRY(jb_tuple_field(tu, 1, &f));
    printf("C sees: [2, %.*s]\n", (int)f.len, f.v.s);
    jb_tuple_unref(tu);
    lua_close(L);           /* Lua's finalizers run; the engine stays the host's */
    TRY(jb_engine_close(e));
    printf("host ok\n");
    return 0;
}
