-- Sliding window, the weighted two-window counter: the count of the previous aligned
-- window, weighted by how much of it the sliding window still covers, plus the count of
-- the current one.
--
-- State: one integer, (previous * 2^24 + current) * 16 + (window number mod 16), which
-- Redis stores int-encoded, as small as a key can be (a string of the three numbers took
-- 16-32 bytes more). The integer stays below 2^53, so Lua's doubles hold it exactly: counts
-- stop at 2^24 - 1, reached only with count_denied, where a saturated count blocks as well
-- as a larger one. A limit of 2^23 or more keeps the string "window:current:previous"
-- instead; either is read whatever the limit, so limiters configured differently in two
-- processes still share state.
--
-- Error bound (see docs/ratelimit.md): no aligned window ever admits more than `limit`;
-- an arbitrary interval of one window's length admits at most limit + f * previous
-- (< 2 * limit), f being how far into the current window the interval ends. The estimate
-- is exact when the previous window's requests were spread evenly.

local TAG, SPAN = 16, 16777216
local number = math.floor(now / window)
local starts = number * window
local elapsed = (now - starts) / window
local current, previous = 0, 0
local stored = redis.call('GET', key)
if stored then
  local at, cur, prev = string.match(stored, '^(%d+):(%d+):(%d+)$')
  local age
  if at then
    -- The string form: the full window number.
    age, cur, prev = number - at, cur + 0, prev + 0
  else
    stored = stored + 0
    local counts = math.floor(stored / TAG)
    -- Ages 0 and 1 as such; a window ahead (a caller's clock that went backwards) is 15.
    age = (number - stored) % TAG
    if age == TAG - 1 then age = -1 end
    prev = math.floor(counts / SPAN)
    cur = counts - prev * SPAN
  end
  if age <= 0 then
    -- Same window (or a caller clock that went backwards: keep the counts).
    current, previous = cur, prev
  elseif age == 1 then
    previous = cur
  end
end
ok = previous * (1 - elapsed) + current + cost <= limit + 1e-9
if write and (ok or count_denied) then
  current = current + cost
  if current < 0 then
    -- A reward (a negative cost) beyond this window's count gives back the previous one's.
    previous = math.max(0, previous + current)
    current = 0
  end
  local state
  if limit < SPAN / 2 then
    current = math.min(current, SPAN - 1)
    state = string.format('%d', (math.min(previous, SPAN - 1) * SPAN + current) * TAG + number % TAG)
  else
    state = string.format('%d:%d:%d', number, current, previous)
  end
  -- The counts matter until the end of the next window, when they stop weighing.
  redis.call('SET', key, state, 'PX', math.max(1, ms(starts + 2 * window - now)))
end
local estimate = previous * (1 - elapsed) + current
remaining = math.max(0, math.floor(limit - estimate + 1e-9))
reset = 0
if current > 0 then
  reset = starts + 2 * window - now
elseif previous > 0 then
  reset = starts + window - now
end
retry = 0
if estimate + cost > limit + 1e-9 then
  if current + cost <= limit then
    -- Later in this window the previous window weighs little enough.
    retry = starts + (1 - (limit - current - cost) / previous) * window - now
  else
    -- In the next window, once this window's count weighs little enough.
    local share = math.max(0, 1 - (limit - cost) / current)
    retry = starts + window + share * window - now
  end
end
