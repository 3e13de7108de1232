-- Give a fresh entry a new fresh time, keeping its value: touch.
--
-- KEYS[1] entry key
-- ARGV[1] fresh ttl ms (from now)   ARGV[2] hard ttl ms (fresh + stale)
-- Returns 1 when the entry was fresh and now lives on, 0 when there was none (or it was
-- stale: `get` would not return it either).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = redis.call('GET', KEYS[1])
if not entry then
  return 0
end
local fresh, delta = string.match(entry, '^v1:(%d+):(%d+):')
if not fresh or tonumber(fresh) <= now then
  return 0
end
local header = #fresh + #delta + 5
redis.call('SET', KEYS[1],
  string.format('v1:%d:%s:', now + tonumber(ARGV[1]), delta) .. string.sub(entry, header + 1),
  'PX', ARGV[2])
return 1
