-- Delete the whole queue, at most `limit` jobs per call; the last call deletes the queue's
-- own keys, so nothing of it is left.
-- ARGV: force 0|1, limit. Reply: jobs left (the caller repeats until 0), or -1: refused,
-- jobs are active and force was not given.
local force, limit = ARGV[1] == '1', tonumber(ARGV[2])
if not force and redis.call('ZCARD', K_ACTIVE) > 0 then
  return -1
end
-- Paused meanwhile, so no worker takes a job of a queue being deleted.
redis.call('HSET', K_META, 'paused', '1')
local budget = limit
local ids = redis.call('LRANGE', K_WAIT, 0, budget - 1)
redis.call('LTRIM', K_WAIT, #ids, -1)
for _, id in ipairs(ids) do
  redis.call('DEL', jkey(id), B .. 'l:' .. id)
end
budget = budget - #ids
for _, z in ipairs({K_PRIO, K_DELAYED, K_ACTIVE, K_COMPLETED, K_FAILED}) do
  if budget > 0 then
    local zids = redis.call('ZRANGE', z, 0, budget - 1)
    for _, id in ipairs(zids) do
      redis.call('DEL', jkey(id), B .. 'l:' .. id)
      redis.call('ZREM', z, id)
    end
    budget = budget - #zids
  end
end
local left = redis.call('LLEN', K_WAIT)
for _, z in ipairs({K_PRIO, K_DELAYED, K_ACTIVE, K_COMPLETED, K_FAILED}) do
  left = left + redis.call('ZCARD', z)
end
if left == 0 then
  redis.call('DEL', K_META, K_WAIT, K_PRIO, K_DELAYED, K_ACTIVE, K_COMPLETED, K_FAILED, K_GC,
    K_MARKER, K_EVENTS, K_DEDUP, K_DEDUPX, K_WORKERS, K_WINFO, K_SCHED, K_SCHEDD)
end
return left
