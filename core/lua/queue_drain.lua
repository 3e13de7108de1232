-- Remove waiting jobs (and delayed ones when asked), at most `limit` per call.
-- ARGV: delayed 0|1, limit. Reply: how many remain (the caller repeats until 0).
local with_delayed, limit = ARGV[1] == '1', tonumber(ARGV[2])
local function drop(id)
  local key = jkey(id)
  local ddid = redis.call('HGET', key, 'ddid')
  if ddid and redis.call('HGET', K_DEDUP, ddid) == id then
    redis.call('HDEL', K_DEDUP, ddid)
    redis.call('ZREM', K_DEDUPX, ddid)
  end
  redis.call('DEL', key, B .. 'l:' .. id)
end
local ids = redis.call('LRANGE', K_WAIT, 0, limit - 1)
redis.call('LTRIM', K_WAIT, #ids, -1)
for _, id in ipairs(ids) do
  drop(id)
end
for _, z in ipairs(with_delayed and {K_PRIO, K_DELAYED} or {K_PRIO}) do
  for _, id in ipairs(redis.call('ZRANGE', z, 0, limit - 1)) do
    redis.call('ZREM', z, id)
    drop(id)
  end
end
local left = redis.call('LLEN', K_WAIT) + redis.call('ZCARD', K_PRIO)
if with_delayed then
  left = left + redis.call('ZCARD', K_DELAYED)
end
if left == 0 then
  event('drained')
end
return left
