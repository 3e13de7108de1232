-- Several rules: the algorithm becomes a function of its rule. A first pass only reads;
-- the second writes when every rule allows (or when denied requests are counted), so a
-- denied multi-limit decision consumes nothing, and reports each rule as it then stands
-- (reading a rule twice costs less than keeping every rule's state in a table).
local function rule(key, limit, window, burst, write)
  local ok, remaining, reset, retry
-- ALGORITHM
  return ok, remaining, reset, retry
end

local function run(i, write)
  local at = 3 * i - 1
  return rule(KEYS[i], ARGV[at] + 0, ARGV[at + 1] + 0, ARGV[at + 2] + 0, write)
end

local allowed = true
for i = 1, #KEYS do
  if not run(i, false) then allowed = false end
end
local write = consume and (allowed or count_denied)
-- Report the rule closest to its limit (ties: the one that takes longest to reset), and
-- the longest wait any rule imposes.
local best, best_remaining, best_reset, longest = nil, 0, 0, 0
for i = 1, #KEYS do
  local _, remaining, reset, retry = run(i, write)
  if best == nil or remaining < best_remaining
      or (remaining == best_remaining and reset > best_reset) then
    best, best_remaining, best_reset = i, remaining, reset
  end
  if retry > longest then longest = retry end
end
if allowed then longest = 0 end
local at = 3 * best - 1
return {allowed and 1 or 0, ARGV[at] + ARGV[at + 2], best_remaining, ms(best_reset), ms(longest)}
