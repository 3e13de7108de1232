-- Create or replace a scheduler and add the job of its next slot.
-- ARGV: scheduler id, definition JSON, slot_ms, job name, data, opts JSON.
-- The slot's job has the id `repeat:<scheduler id>:<slot>`, so however many processes
-- upsert or advance the scheduler, a slot gets one job. A pending (delayed) job of another
-- slot is replaced; an unchanged definition keeps its pending job. Reply: the pending
-- job's id.
local sid, def, slot = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('HSETNX', K_META, 'v', 'q3')
local prev = redis.call('ZSCORE', K_SCHED, sid)
-- The same definition again (a process restarting) keeps its pending job, even when the
-- slot computed now is a later one.
if prev and redis.call('HGET', K_SCHEDD, sid) == def then
  local kept = slot_job_id(sid, tonumber(prev))
  if redis.call('EXISTS', jkey(kept)) == 1 and not redis.call('ZSCORE', K_COMPLETED, kept)
      and not redis.call('ZSCORE', K_FAILED, kept) then
    return kept
  end
end
redis.call('HSET', K_SCHEDD, sid, def)
if prev and tonumber(prev) ~= slot then
  local old = slot_job_id(sid, tonumber(prev))
  if redis.call('ZREM', K_DELAYED, old) == 1 then
    redis.call('DEL', jkey(old), B .. 'l:' .. old)
  end
end
return add_slot_job(sid, slot, ARGV[4], ARGV[5], ARGV[6])
