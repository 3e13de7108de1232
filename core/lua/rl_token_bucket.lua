-- Token bucket. State: "tokens:last" — the tokens left (three decimals, rounded down so
-- rounding never grants a request) and the µs time they were counted. The bucket holds
-- limit + burst tokens and refills limit tokens per window, continuously.

local capacity, rate = limit + burst, limit / window
local tokens, last = capacity, now
local stored = redis.call('GET', key)
if stored then
  local t, l = string.match(stored, '^([%d.]+):(%d+)$')
  tokens, last = tonumber(t), tonumber(l)
  -- A caller clock that went backwards refills nothing (and is not stored).
  if now > last then
    tokens = math.min(capacity, tokens + (now - last) * rate)
    last = now
  end
end
ok = tokens + 1e-9 >= cost
if write and (ok or count_denied) then
  -- A counted denied request empties the bucket, never below zero; a reward (a negative
  -- cost) fills it, never above its capacity. Whole thousandths, written as integers: what
  -- string.format('%.3f') gives, for less work.
  local left = tokens - cost
  if left < 0 then left = 0 elseif left > capacity then left = capacity end
  local thousandths = math.floor(left * 1000)
  tokens = thousandths / 1000
  local full_in = (capacity - tokens) / rate + (last - now)
  redis.call('SET', key,
    string.format('%d.%03d:%d', math.floor(thousandths / 1000), thousandths % 1000, last),
    'PX', math.max(1, ms(full_in)))
end
local behind = last - now
remaining = math.floor(tokens + 1e-9)
reset = (capacity - tokens) / rate + behind
retry = (cost - tokens) / rate + behind
