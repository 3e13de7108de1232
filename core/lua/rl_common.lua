-- Shared head of every rate-limit script: each rl_<algorithm>.lua is appended to this file
-- at build time, defines load/store/status for its algorithm and ends with
-- `return decide(load, store, status)`.
--
-- KEYS[i]  the state key of rule i (every key of one limiter shares one hash tag)
-- ARGV[1]  'limit' (consume) or 'peek' (consume nothing)
-- ARGV[2]  the caller's clock in ms, or '' to read the server's TIME
-- ARGV[3]  cost
-- ARGV[4]  '1' to record denied requests too (count_denied)
-- ARGV[5..] three per rule: limit, window in microseconds, burst
-- Reply: {allowed 0|1, limit, remaining, reset_after_ms, retry_after_ms}
--
-- Time is kept in microseconds; durations leave the script in whole milliseconds rounded
-- up, so a caller that waits retry_after_ms is never early.
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[2]) * 1000
end
local consume = ARGV[1] == 'limit'
local cost = tonumber(ARGV[3])
local count_denied = ARGV[4] == '1'

-- Microseconds to whole milliseconds, rounded up.
local function ms(us)
  if us <= 0.001 then return 0 end
  -- A nanosecond of slack absorbs floating-point noise (199.99999 ms is 200 ms).
  return math.ceil((us - 0.001) / 1000)
end

-- A number as Redis should store it: integral, without an exponent.
local function int(x)
  return string.format('%.0f', x)
end

-- Rule i: its key, limit, window and burst (values, not a table: tables cost).
local function rule(i)
  local at = 2 + i * 3
  return KEYS[i], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
end

-- Evaluate every rule first and write only when all of them allow (or when denied
-- requests are counted), so a denied multi-limit decision consumes nothing.
--   load(key, limit, window, burst) -> state: a table with at least key, limit, burst, and
--                  ok = whether `cost` fits now; built by one constructor, as filling a
--                  table field by field rehashes it as it grows (this runs on every call)
--   store(state)   consumes `cost` and writes the state back
--   status(state) -> remaining, reset_after_us, retry_after_us (for `cost`, from now)
local function decide(load, store, status)
  if #KEYS == 1 then
    -- One rule, the common case: no loop, no ranking.
    local s = load(rule(1))
    local allowed = s.ok
    if consume and (allowed or count_denied) then store(s) end
    local remaining, reset, wait = status(s)
    return {allowed and 1 or 0, s.limit + s.burst, remaining, ms(reset), allowed and 0 or ms(wait)}
  end
  local states, allowed = {}, true
  for i = 1, #KEYS do
    local s = load(rule(i))
    states[i] = s
    allowed = allowed and s.ok
  end
  if consume and (allowed or count_denied) then
    for i = 1, #states do store(states[i]) end
  end
  -- Report the rule closest to its limit (ties: the one that takes longest to reset),
  -- and the longest wait any rule imposes.
  local best, best_remaining, best_reset, retry = nil, 0, 0, 0
  for i = 1, #states do
    local remaining, reset, wait = status(states[i])
    if best == nil or remaining < best_remaining
        or (remaining == best_remaining and reset > best_reset) then
      best, best_remaining, best_reset = states[i], remaining, reset
    end
    if wait > retry then retry = wait end
  end
  if allowed then retry = 0 end
  return {allowed and 1 or 0, best.limit + best.burst, best_remaining, ms(best_reset), ms(retry)}
end
