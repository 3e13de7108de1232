-- ARGV: id. Reply: 1 removed, 0 no such job, -1 refused: the job is active (its worker
-- holds a lease; removing it under the worker would lose its result silently).
local id = ARGV[1]
local key = jkey(id)
if redis.call('EXISTS', key) == 0 then
  return 0
end
if redis.call('ZSCORE', K_ACTIVE, id) then
  return -1
end
local found = 0
for _, z in ipairs({K_PRIO, K_DELAYED, K_COMPLETED, K_FAILED}) do
  found = found + redis.call('ZREM', z, id)
end
if found == 0 then
  redis.call('LREM', K_WAIT, 1, id)
end
local ddid = redis.call('HGET', key, 'ddid')
if ddid and redis.call('HGET', K_DEDUP, ddid) == id then
  redis.call('HDEL', K_DEDUP, ddid)
  redis.call('ZREM', K_DEDUPX, ddid)
end
redis.call('ZREM', K_GC, id)
redis.call('DEL', key, B .. 'l:' .. id)
event('removed', 'id', id)
return 1
