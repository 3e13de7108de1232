-- The miss path of get_or_set, in one round trip: re-check the entry, read the tags'
-- invalidation epochs, and try to become the one loader of this key.
--
-- KEYS[1] entry key   KEYS[2] lock key   KEYS[3..] tag keys
-- ARGV[1] lock token  ARGV[2] lock ttl ms
-- ARGV[3] '1' to skip the fresh-entry check (an early or stale refresh)
-- ARGV[4] '1' to take the lock, '0' to load without one
-- Returns {'hit', entry} | {'busy', entry-or-false} | {'locked', epoch...}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = redis.call('GET', KEYS[1])

if ARGV[3] ~= '1' and entry then
  local fresh_until = tonumber(string.match(entry, '^v1:(%d+):'))
  if fresh_until and fresh_until > now then
    return {'hit', entry}
  end
end

if ARGV[4] == '1' then
  if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
    -- A lock holding the caller's own token is this same call run again: its reply was
    -- lost with the connection and the client resent it. It is the caller's, not busy.
    if redis.call('GET', KEYS[2]) ~= ARGV[1] then
      return {'busy', entry}
    end
  end
end

local reply = {'locked'}
for i = 3, #KEYS do
  reply[#reply + 1] = redis.call('ZSCORE', KEYS[i], '#epoch') or '0'
end
return reply
