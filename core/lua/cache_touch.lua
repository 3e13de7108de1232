-- Give a fresh entry a new fresh time, keeping its value: touch. Its tag indexes are
-- extended with it (the tags its tag record names), so `invalidate_tags` still reaches it.
--
-- KEYS[1] entry key      KEYS[2] the entry's tag record (see cache_set.lua)
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
local hard = tonumber(ARGV[2])
local header = #fresh + #delta + 5
redis.call('SET', KEYS[1],
  string.format('v1:%d:%s:', now + tonumber(ARGV[1]), delta) .. string.sub(entry, header + 1),
  'PX', hard)

-- An entry written by a build that kept no record has none: its indexes stay as they were.
local record = redis.call('GET', KEYS[2])
if record then
  local pos = 1
  while pos <= #record do
    local colon = string.find(record, ':', pos, true)
    local len = colon and tonumber(string.sub(record, pos, colon - 1))
    if not len then break end
    local tag = string.sub(record, colon + 1, colon + len)
    pos = colon + len + 1
    -- As cache_set.lua indexes a new entry: the member's score is the entry's hard expiry.
    redis.call('ZREMRANGEBYSCORE', tag, 0, now)
    redis.call('ZADD', tag, now + hard, KEYS[1])
    if redis.call('PTTL', tag) < hard then
      redis.call('PEXPIRE', tag, hard)
    end
  end
  redis.call('PEXPIRE', KEYS[2], hard)
end
return 1
