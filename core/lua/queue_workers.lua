-- ARGV: ttl_ms. Reply: {now, id, last_seen_ms, info JSON, ...} for the workers seen within
-- ttl_ms.
local since = now - tonumber(ARGV[1])
local out = {now}
local seen = redis.call('ZRANGEBYSCORE', K_WORKERS, fmt(since), '+inf', 'WITHSCORES')
for i = 1, #seen, 2 do
  out[#out + 1] = seen[i]
  out[#out + 1] = seen[i + 1]
  out[#out + 1] = redis.call('HGET', K_WINFO, seen[i]) or '{}'
end
return out
