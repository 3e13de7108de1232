-- Add to a counter entry, making it when there is none: incr.
--
-- A counter is an ordinary entry whose payload is the decimal text of a whole number (a
-- JSON number, so `get` reads it back as one in every runtime). A missing or stale entry
-- starts from 0 with a new fresh time; an existing one keeps its fresh time and expiry.
--
-- KEYS[1] entry key      KEYS[2] its tag record (see cache_set.lua): a new counter has no tags
-- ARGV[1] amount (a whole number, |n| < 2^53)
-- ARGV[2] fresh ttl ms, ARGV[3] hard ttl ms: for a counter this call makes
-- Returns the new value; an INVALID error when the entry holds something else, or the sum
-- leaves the whole numbers every runtime holds exactly (|n| < 2^53).
local LIMIT = 9007199254740991
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local by = tonumber(ARGV[1])
local entry = redis.call('GET', KEYS[1])

local function checked(n)
  if n > LIMIT or n < -LIMIT then
    return redis.error_reply('INVALID incr would take the counter past 2^53 - 1: ' ..
      'the largest whole number every runtime holds exactly')
  end
  if n == 0 then n = 0 end -- never '-0'
  return n
end

if entry then
  local fresh, delta = string.match(entry, '^v1:(%d+):(%d+):')
  if fresh and tonumber(fresh) > now then
    local payload = string.sub(entry, #fresh + #delta + 6)
    if #payload > 17 or not string.match(payload, '^%-?%d+$') then
      return redis.error_reply('INVALID incr: the entry holds a value that is not a ' ..
        'whole-number counter')
    end
    local n = checked(tonumber(payload) + by)
    if type(n) == 'table' then return n end
    redis.call('SET', KEYS[1], string.format('v1:%s:%s:%.0f', fresh, delta, n), 'KEEPTTL')
    return n
  end
end

local n = checked(by)
if type(n) == 'table' then return n end
redis.call('SET', KEYS[1], string.format('v1:%d:0:%.0f', now + tonumber(ARGV[2]), n),
  'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return n
