-- Write several cache entries and index them under the same tags, atomically: set_many.
--
-- KEYS[1..n]     entry keys      KEYS[n+1..2n] their tag records (as in cache_set.lua)
-- KEYS[2n+1..]   tag keys (as in cache_set.lua)
-- ARGV[1]        n, the number of entries
-- ARGV[2..]      per entry, three values: fresh ttl ms, hard ttl ms (fresh + stale), payload
-- Returns n. A plain write, as cache_set.lua without a loader: no lock, no epoch check.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local longest = 0
for i = 1, n do
  local base = 2 + (i - 1) * 3
  local fresh, hard = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  redis.call('SET', KEYS[i], string.format('v1:%d:0:', now + fresh) .. ARGV[base + 2], 'PX', hard)
  if hard > longest then longest = hard end
end

local record = {}
for j = 2 * n + 1, #KEYS do
  local tag = KEYS[j]
  -- Forget members whose entries have expired: the index stays as small as the live set.
  redis.call('ZREMRANGEBYSCORE', tag, 0, now)
  for i = 1, n do
    redis.call('ZADD', tag, now + tonumber(ARGV[3 + (i - 1) * 3]), KEYS[i])
  end
  -- The index outlives every entry it lists.
  if redis.call('PTTL', tag) < longest then
    redis.call('PEXPIRE', tag, longest)
  end
  record[#record + 1] = #tag .. ':' .. tag
end

-- Each entry's record lives as long as the entry; one left by an earlier write must not.
if #record > 0 then
  local text = table.concat(record)
  for i = 1, n do
    redis.call('SET', KEYS[n + i], text, 'PX', ARGV[3 + (i - 1) * 3])
  end
else
  -- unpack() has a stack limit: delete in slices.
  for i = n + 1, 2 * n, 500 do
    redis.call('DEL', unpack(KEYS, i, math.min(i + 499, 2 * n)))
  end
end
return n
