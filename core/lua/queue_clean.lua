-- Remove jobs of one state older than a grace period.
-- ARGV: state (completed | failed | delayed | waiting), grace_ms, limit.
-- Completed and failed jobs are aged by finished_on, delayed and waiting ones by their
-- timestamp; at most `limit` jobs are examined per call, oldest first.
-- Reply: the removed ids.
local state, cutoff, limit = ARGV[1], now - tonumber(ARGV[2]), tonumber(ARGV[3])
local removed = {}
local function drop(id, zkey)
  if zkey then
    redis.call('ZREM', zkey, id)
  else
    redis.call('LREM', K_WAIT, 1, id)
  end
  local key = jkey(id)
  local ddid = redis.call('HGET', key, 'ddid')
  if ddid and redis.call('HGET', K_DEDUP, ddid) == id then
    redis.call('HDEL', K_DEDUP, ddid)
    redis.call('ZREM', K_DEDUPX, ddid)
  end
  redis.call('ZREM', K_GC, id)
  redis.call('DEL', key, B .. 'l:' .. id)
  removed[#removed + 1] = id
end
local function older(id)
  return (tonumber(redis.call('HGET', jkey(id), 'ts')) or 0) <= cutoff
end
if state == 'completed' or state == 'failed' then
  local z = K_COMPLETED
  if state == 'failed' then
    z = K_FAILED
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', fmt(cutoff), 'LIMIT', 0, limit)) do
    drop(id, z)
  end
elseif state == 'delayed' then
  for _, id in ipairs(redis.call('ZRANGE', K_DELAYED, 0, limit - 1)) do
    if older(id) then
      drop(id, K_DELAYED)
    end
  end
elseif state == 'waiting' then
  for _, id in ipairs(redis.call('LRANGE', K_WAIT, 0, limit - 1)) do
    if older(id) then
      drop(id, nil)
    end
  end
  for _, id in ipairs(redis.call('ZRANGE', K_PRIO, 0, limit - 1)) do
    if older(id) then
      drop(id, K_PRIO)
    end
  end
end
if #removed > 0 then
  event('cleaned', 'count', #removed)
end
return removed
