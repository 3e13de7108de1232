-- Write one cache entry and index it under its tags, atomically.
--
-- KEYS[1]   entry key
-- KEYS[2]   lock key of the entry (released when it holds ARGV[5])
-- KEYS[3]   the entry's tag record: its tag keys, each as '<length>:<key>', so that touch
--           can extend their indexes (deleted when the entry has no tags)
-- KEYS[4..] tag keys (sorted sets: member = entry key, score = entry's hard expiry ms;
--           member '#epoch' with score -N counts the tag's invalidations)
-- ARGV[1]   fresh ttl ms       ARGV[2] hard ttl ms (fresh + stale)
-- ARGV[3]   loader duration ms ARGV[4] payload
-- ARGV[5]   lock token, '' when the caller holds no lock
-- ARGV[6..] per tag: the epoch the caller saw before loading, '' to skip the check
-- Returns 1 when written, 0 when a tag was invalidated since the caller loaded (the value
-- may predate the invalidation, so it is not stored).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hard = tonumber(ARGV[2])
local token = ARGV[5]

local function release()
  if token ~= '' and redis.call('GET', KEYS[2]) == token then
    redis.call('DEL', KEYS[2])
  end
end

for i = 4, #KEYS do
  local seen = ARGV[i + 2]
  if seen ~= nil and seen ~= '' then
    local epoch = redis.call('ZSCORE', KEYS[i], '#epoch') or '0'
    if tonumber(epoch) ~= tonumber(seen) then
      release()
      return 0
    end
  end
end

local fresh_until = now + tonumber(ARGV[1])
redis.call('SET', KEYS[1],
  string.format('v1:%d:%d:', fresh_until, tonumber(ARGV[3])) .. ARGV[4], 'PX', hard)

local record = {}
for i = 4, #KEYS do
  local tag = KEYS[i]
  -- Forget members whose entries have expired: the index stays as small as the live set.
  redis.call('ZREMRANGEBYSCORE', tag, 0, now)
  redis.call('ZADD', tag, now + hard, KEYS[1])
  -- The index outlives every entry it lists.
  if redis.call('PTTL', tag) < hard then
    redis.call('PEXPIRE', tag, hard)
  end
  record[#record + 1] = #tag .. ':' .. tag
end
-- The record lives as long as the entry; one left by an earlier write must not outlive it.
if #record > 0 then
  redis.call('SET', KEYS[3], table.concat(record), 'PX', hard)
else
  redis.call('DEL', KEYS[3])
end

release()
return 1
