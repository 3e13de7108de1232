-- Move finished jobs back to waiting with their attempts count reset.
-- ARGV: state (failed | completed), limit, id ('' for the oldest `limit` jobs of the state;
-- else only that job, from either state).
-- Reply: how many moved (the caller repeats until 0).
local state, limit, only = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ids, zkeys
if only ~= '' then
  ids, zkeys = {only}, {K_FAILED, K_COMPLETED}
else
  local z = K_FAILED
  if state == 'completed' then
    z = K_COMPLETED
  end
  ids, zkeys = redis.call('ZRANGE', z, 0, limit - 1), {z}
end
local moved = 0
for _, id in ipairs(ids) do
  local was = 0
  for _, z in ipairs(zkeys) do
    was = was + redis.call('ZREM', z, id)
  end
  if was > 0 then
    redis.call('ZREM', K_GC, id)
    local key = jkey(id)
    redis.call('HDEL', key, 'am', 'fr', 'fon', 'rv', 'sc', 'cxl')
    local o = decode_opts(redis.call('HGET', key, 'opts'))
    push_ready(id, o['priority'], o['lifo'])
    event('waiting', 'id', id)
    moved = moved + 1
  end
end
return moved
