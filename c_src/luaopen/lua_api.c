/* The Lua C API functions luaopen_jitbox and jitbox_lua_nkeys call, found at run time, so that libjitbox
   links into hosts without Lua (C programs that use only the C API) and binds to the host's
   LuaJIT, never to one a build may have linked into the library itself.

   First the process's global symbols (the luajit command, nginx's Lua module, a host linked
   with a shared libluajit); then weak references, which a host that links LuaJIT statically
   resolves at link time. A Lua error raised inside unwinds through this frame and
   luaopen_jitbox's, which hold nothing. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

typedef struct lua_State lua_State;

extern int luaL_loadbuffer(lua_State *L, const char *buf, size_t size, const char *name)
    __attribute__((weak));
extern void lua_pushlightuserdata(lua_State *L, void *p) __attribute__((weak));
extern void lua_call(lua_State *L, int nargs, int nresults) __attribute__((weak));
extern int lua_error(lua_State *L) __attribute__((weak));
extern void lua_pushcclosure(lua_State *L, int (*fn)(lua_State *), int n) __attribute__((weak));
extern int lua_next(lua_State *L, int idx) __attribute__((weak));
extern void lua_settop(lua_State *L, int idx) __attribute__((weak));
extern void lua_pushnil(lua_State *L) __attribute__((weak));
extern void lua_pushnumber(lua_State *L, double n) __attribute__((weak));
extern int lua_type(lua_State *L, int idx) __attribute__((weak));
extern void lua_pushvalue(lua_State *L, int idx) __attribute__((weak));

#define LUA_TTABLE 5

/* The functions, resolved once (the first caller stores them; a race stores the same). */
static struct {
    int (*loadbuffer)(lua_State *, const char *, size_t, const char *);
    void (*pushlightuserdata)(lua_State *, void *);
    void (*call)(lua_State *, int, int);
    int (*error)(lua_State *);
    void (*pushcclosure)(lua_State *, int (*)(lua_State *), int);
    int (*next)(lua_State *, int);
    void (*settop)(lua_State *, int);
    void (*pushnil)(lua_State *);
    void (*pushnumber)(lua_State *, double);
    int (*type)(lua_State *, int);
    void (*pushvalue)(lua_State *, int);
} api;
static int api_state; /* 0 unresolved, 1 resolved, -1 missing */

/* POSIX lets a data pointer from dlsym hold a function's address; copy it bit for bit. */
#define FIND(field, name) do { \
    void *global_ = dlsym(RTLD_DEFAULT, #name); \
    void (*weak_)(void) = (void (*)(void))name; \
    if (global_) memcpy(&api.field, &global_, sizeof global_); \
    else memcpy(&api.field, &weak_, sizeof weak_); \
    if (!api.field) return -1; \
} while (0)

static int resolve_all(void) {
    FIND(loadbuffer, luaL_loadbuffer);
    FIND(pushlightuserdata, lua_pushlightuserdata);
    FIND(call, lua_call);
    FIND(error, lua_error);
    FIND(pushcclosure, lua_pushcclosure);
    FIND(next, lua_next);
    FIND(settop, lua_settop);
    FIND(pushnil, lua_pushnil);
    FIND(pushnumber, lua_pushnumber);
    FIND(type, lua_type);
    FIND(pushvalue, lua_pushvalue);
    return 1;
}

static int resolve(void) {
    int state = __atomic_load_n(&api_state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        state = resolve_all();
        __atomic_store_n(&api_state, state, __ATOMIC_RELEASE);
    }
    return state == 1;
}

/* `jitbox_lua_nkeys(t)`: how many keys table t has (nil for a non-table). A C function, so
   a trace that calls it stitches around it instead of compiling a traversal. */
int jb__lua_nkeys(lua_State *L) {
    double n = 0;
    if (!resolve()) {
        return 0;
    }
    if (api.type(L, 1) != LUA_TTABLE) {
        api.pushnil(L);
        return 1;
    }
    api.settop(L, 1);
    api.pushnil(L);
    while (api.next(L, 1)) {
        api.settop(L, -2);
        n += 1;
    }
    api.pushnumber(L, n);
    return 1;
}

/* Loads `boot` (the bootstrap chunk) and calls it with `embedded`, jitbox_lua_nkeys and the
   module name require passed (the loader's first argument), leaving its one result on the
   stack. Returns 1, or 0 when the process has
   no Lua C API to call (L cannot then be a Lua state; nothing is pushed). Lua errors
   propagate to the caller. */
int jb__lua_bootstrap(lua_State *L, const char *boot, size_t len, void *embedded,
                      int (*nkeys)(lua_State *)) {
    if (!resolve()) {
        return 0;
    }
    if (api.loadbuffer(L, boot, len, "=jitbox bootstrap") != 0) {
        api.error(L);
    }
    api.pushlightuserdata(L, embedded);
    api.pushnil(L);
    api.pushcclosure(L, nkeys, 0);
    api.pushvalue(L, 1);
    api.call(L, 4, 1);
    return 1;
}
