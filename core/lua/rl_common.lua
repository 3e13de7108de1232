-- Shared head of every rate-limit script. Each script is assembled from three files
-- (core/src/ratelimit/scripts.rs):
--   rl_common.lua       this head: arguments, clock, helpers
--   rl_one_rule.lua     the decision for one rule (the common case), or rl_rules.lua for
--                       several; each holds a line `-- ALGORITHM` where the next file goes
--   rl_<algorithm>.lua  the algorithm, as straight-line code deciding one rule
-- The algorithm is pasted rather than called because Redis runs the whole script anew on
-- every call: each function it defines is a fresh closure and each variable a closure
-- captures a fresh allocation. With one rule the algorithm runs inline, with no closure and
-- no table; rl_rules.lua wraps the same text in a function of the rule.
--
-- What the algorithm reads: key, limit, window (µs), burst (its rule); now (µs), cost,
-- count_denied; write (whether it may consume: it stores `cost` when the rule allows it,
-- or when count_denied).
-- What it sets: ok (`cost` fits now), and after any write: remaining, reset (µs until the
-- rule is whole again), retry (µs until `cost` would fit).
--
-- KEYS[i]  the state key of rule i (every key of one limiter shares one hash tag)
-- ARGV[1]  the cost of the request; 0 to peek (what a request of cost 1 would get, consuming
--          nothing); negative (-cost) to record the request even when it is denied
--          (count_denied)
-- ARGV[2..] three per rule (rule i from ARGV[3i - 1]): limit, window in microseconds, burst
-- ARGV[3 * #KEYS + 2]  optional: the caller's clock in ms; absent, the server's TIME
-- (block_for adds a last key and an argument before the clock: see below.)
-- What to do, how much and whose clock travel in as few arguments as there are facts,
-- because each argument costs Redis work on every call (bench/results/code-notes.md).
-- Reply: {allowed 0|1, limit, remaining, reset_after_ms, retry_after_ms}; or, from the
-- one-rule script for an admission whose numbers fit, the integer
-- (reset_after_ms * 2^20 + remaining) * 2 + 1 (an odd number; retry_after_ms is 0 and the
-- limit the rule's, limit + burst). Redis turns a table of five into a reply for about ten
-- times the work of an integer (bench/results/code-notes.md).
--
-- Time is kept in microseconds; durations leave the script in whole milliseconds rounded
-- up, so a caller that waits retry_after_ms is never early.
--
-- Costs measured in Redis 7.0 (bench/results/ratelimit-script-cpu.md): arithmetic turns a
-- numeric string into a number for half the work of tonumber(), a function call; numbers
-- are written with string.format('%d'), several times cheaper than '%.0f' (it needs a
-- 64-bit C long, as cache_set.lua already does), and only whole numbers reach it.
local now
local clock = ARGV[3 * #KEYS + 2]
--block: -- With block_for (lines marked `--block:` are kept only in the scripts of limiters that
--block: -- have it, see scripts.rs): the last key is the identifier's block key, whose expiry is
--block: -- the end of its block; ARGV[3 * rules + 2] is block_for in ms, the caller's clock after it.
--block: local block_key, block_ms = KEYS[#KEYS], ARGV[3 * #KEYS - 1]
--block: local block_for = block_ms * 1000
--block: clock = ARGV[3 * #KEYS]
if clock == nil then
  local t = redis.call('TIME')
  now = t[1] * 1000000 + t[2]
else
  now = clock * 1000
end
local cost = ARGV[1] + 0
local consume = cost ~= 0
local count_denied = cost < 0
if cost < 0 then
  cost = -cost
elseif cost == 0 then
  cost = 1
end

-- Microseconds to whole milliseconds, rounded up.
local function ms(us)
  if us <= 0.001 then return 0 end
  -- A nanosecond of slack absorbs floating-point noise (199.99999 ms is 200 ms).
  return math.ceil((us - 0.001) / 1000)
end
