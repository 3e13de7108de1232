-- Invalidate tags: delete every entry indexed under them and bump their epochs, so a
-- loader that started before this call cannot store what it loaded (see cache_set.lua).
--
-- KEYS[1..] tag keys
-- ARGV[1]   how long (ms) an epoch must survive an emptied index: longer than a loader
--           may run while holding the lock (twice the lock ttl)
-- Returns the number of entries deleted.
local deleted = 0
local guard = tonumber(ARGV[1])
for i = 1, #KEYS do
  local tag = KEYS[i]
  local members = redis.call('ZRANGEBYSCORE', tag, 0, '+inf')
  -- unpack() has a stack limit: delete in slices.
  for j = 1, #members, 500 do
    deleted = deleted + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('ZREMRANGEBYSCORE', tag, 0, '+inf')
  redis.call('ZINCRBY', tag, -1, '#epoch')
  if redis.call('PTTL', tag) < guard then
    redis.call('PEXPIRE', tag, guard)
  end
end
return deleted
