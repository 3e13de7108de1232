-- Create or replace a scheduler and add the job of its next slot.
-- ARGV: scheduler id, definition JSON, slot_ms, job name, data, opts JSON.
-- The slot's job has the id `repeat:<scheduler id>:<slot>`, so however many processes
-- upsert or advance the scheduler, a slot gets one job. A pending (delayed) job of another
-- slot is replaced; an unchanged definition keeps its pending job. Reply: the pending
-- job's id.
local sid, def, slot = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('HSETNX', K_META, 'v', 'q2')
local prev = redis.call('ZSCORE', K_SCHED, sid)
-- The same definition again (a process restarting) keeps its pending job, even when the
-- slot computed now is a later one.
if prev and redis.call('HGET', K_SCHEDD, sid) == def then
  local kept = 'repeat:' .. sid .. ':' .. fmt(tonumber(prev))
  if redis.call('EXISTS', jkey(kept)) == 1 and not redis.call('ZSCORE', K_COMPLETED, kept)
      and not redis.call('ZSCORE', K_FAILED, kept) then
    return kept
  end
end
redis.call('HSET', K_SCHEDD, sid, def)
if prev and tonumber(prev) ~= slot then
  local old = 'repeat:' .. sid .. ':' .. fmt(tonumber(prev))
  if redis.call('ZREM', K_DELAYED, old) == 1 then
    redis.call('DEL', jkey(old), B .. 'l:' .. old)
  end
end
redis.call('ZADD', K_SCHED, fmt(slot), sid)
local jid = 'repeat:' .. sid .. ':' .. fmt(slot)
local key = jkey(jid)
if redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, 'name', ARGV[4], 'data', ARGV[5], 'opts', ARGV[6], 'ts', now_s,
    'sid', sid, 'slot', fmt(slot))
  if slot > now then
    push_delayed(jid, slot)
    event('delayed', 'id', jid, 'at', fmt(slot))
  else
    local o = decode_opts(ARGV[6])
    push_ready(jid, o['priority'], o['lifo'])
    event('waiting', 'id', jid)
  end
end
return jid
