-- An inventory with an audit trail: triggers normalise SKUs before a write and log every
-- change after it; an order reserves stock for several items in one transaction, and a
-- failed line rolls back to a savepoint instead of losing the whole order.
box.cfg{ wal_mode = 'none', log_level = 1 }

local stock = box.schema.space.create('stock', { format = {
    { 'sku', 'string' }, { 'qty', 'unsigned' }, { 'price', 'unsigned' } } })
stock:create_index('pk', { parts = { 'sku' } })
local audit = box.schema.space.create('audit', { format = {
    { 'n', 'unsigned' }, { 'sku', 'string' }, { 'op', 'string' }, { 'before', 'unsigned', is_nullable = true },
    { 'after', 'unsigned', is_nullable = true } } })
audit:create_index('pk', { sequence = true })

-- SKUs are stored upper-case, whatever the caller writes.
stock:before_replace(function(old, new)
    if new ~= nil and new[1] ~= new[1]:upper() then
        return new:update{ { '=', 1, new[1]:upper() } }
    end
end)
stock:on_replace(function(old, new, _, op)
    audit:insert{ box.NULL, (new or old)[1], op, old and old[2] or box.NULL, new and new[2] or box.NULL }
end)

stock:insert{ 'APPLE', 50, 30 }
stock:insert{ 'pear', 20, 45 }
stock:insert{ 'Plum', 5, 60 }
stock:upsert({ 'APPLE', 0, 30 }, { { '+', 'qty', 25 } })
print('pear stored as', stock:get('PEAR') and 'PEAR', stock:get('pear'))

-- An order: every line reserves stock; a line that cannot be served is undone alone.
local function order(lines)
    local served, missed = {}, {}
    box.begin()
    for _, line in ipairs(lines) do
        local sp = box.savepoint()
        local ok = pcall(function()
            local t = stock:update(line[1], { { '-', 'qty', line[2] } })
            if t == nil then error('no such item') end
        end)
        if ok then served[#served + 1] = line[1] else
            box.rollback_to_savepoint(sp)
            missed[#missed + 1] = line[1]
        end
    end
    box.commit()
    return table.concat(served, ','), table.concat(missed, ',')
end

print('order 1', order{ { 'APPLE', 10 }, { 'PLUM', 10 }, { 'PEAR', 5 } })
print('order 2', order{ { 'KIWI', 1 }, { 'PLUM', 5 } })
for _, t in stock:pairs() do print('stock', t.sku, t.qty) end

-- A trigger that refuses: nothing of the statement stays, audit row included.
local guard = stock:on_replace(function(old, new)
    if new and new[3] > 1000 then box.error{ code = 500, reason = 'price too high' } end
end)
local ok, err = pcall(stock.replace, stock, { 'APPLE', 1, 5000 })
print('refused', ok, err.code, err.message, stock:get('APPLE').price)
stock:on_replace(nil, guard)
stock:delete('PLUM')

for _, a in audit:pairs() do print('audit', a.n, a.sku, a.op, a.before, a.after) end
print('audit rows', audit:len(), 'items', stock:len())
os.exit(0)
