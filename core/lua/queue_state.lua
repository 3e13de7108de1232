-- ARGV: id. Reply: waiting, delayed, active, completed or failed; nil for no such job. A
-- job is in exactly one structure: the sorted sets are asked (O(1) each), and a job found
-- in none of them is in the wait list.
local id = ARGV[1]
if redis.call('EXISTS', jkey(id)) == 0 then
  return false
end
if redis.call('ZSCORE', K_ACTIVE, id) then
  return 'active'
elseif redis.call('ZSCORE', K_DELAYED, id) then
  return 'delayed'
elseif redis.call('ZSCORE', K_COMPLETED, id) then
  return 'completed'
elseif redis.call('ZSCORE', K_FAILED, id) then
  return 'failed'
end
return 'waiting'
