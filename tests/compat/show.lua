-- print(tuple) through jitbox.box prints what Tarantool prints: YAML flow style, strings
-- quoted as libyaml quotes them (single quotes, double quotes with escapes where a character
-- needs one, line breaks as Tarantool breaks them), null, doubles, 64-bit integers, nested
-- values, binary data for what is not valid UTF-8.
local ffi = require('ffi')
if rawget(_G, 'box') then
    box.cfg{ work_dir = require('fio').tempdir(), log_level = 1 }
else
    box = require('jitbox.box')
    box.cfg{ log_level = 1 }
end
local function p(t) print(box.tuple.new(t)) end
p{1, 'a', "it's", 'two\nlines', 'tab\there', 'é', '', 'yes', 'null', '123', true, false, box.NULL, 1.5, -3, 1e300, 1/0, -1/0, 18446744073709551615ULL, -9223372036854775807LL, {}, {a=1}, {1, {2, 'x'}}, 'a"b', 'back\\slash', ' lead', 'trail ', '#x', 'a: b', '- x', '\1ctl', 2^53, 0.1}
p{}
p{{'a\nb'}, {k='c\nd'}, {{'e\nf'}}, 'g\n\nh', 'i\n', '\nj', 'k \nl', 'm\n n', 'o\rp', '\0', 'q\127r', 'x\194\133y', '\239\187\191z', '\255bad'}
p{1, {2, {3, 'x\ny'}}}
p{{a={b='x\ny'}}}
p{'ünï', '日本', '\226\128\168', '~', '\\', '@x', '`x', '%x', '!x', '&x', '*x', '|x', '>x', '?x', ',x', '[x', ']x', '{x', '}x', '😀', '\27'}
p{1.0, 100.25, 1e15, 1e16, 123456789012, -0.0, 3.14159265358979, ffi.cast('double', 3), -2^31, 2^32, -2^40, 65535, 65536, -129, -32769}
local t = {} for i = 1, 40 do t[i] = 'word' .. i end
p(t)
local s = box.schema.space.create('x')
s:create_index('pk')
print(s:insert{1, 'y', {'z'}})
print(s:get(1))
os.exit(0)
