-- Advance a scheduler past the slot whose job was just taken: add the next slot's job.
-- ARGV: scheduler id, taken slot_ms, next slot_ms, job name, data, opts JSON.
-- Reply: 1 advanced; 0 someone did already, or the scheduler was replaced or removed.
local sid, taken, slot = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = redis.call('ZSCORE', K_SCHED, sid)
if not cur or tonumber(cur) ~= taken or redis.call('HEXISTS', K_SCHEDD, sid) == 0 then
  return 0
end
add_slot_job(sid, slot, ARGV[4], ARGV[5], ARGV[6])
return 1
