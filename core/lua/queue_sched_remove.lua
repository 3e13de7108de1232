-- ARGV: scheduler id. Removes the definition and its pending job (a job already taken
-- runs to its end). Reply: 1 removed, 0 no such scheduler.
local sid = ARGV[1]
local slot = redis.call('ZSCORE', K_SCHED, sid)
local existed = redis.call('HDEL', K_SCHEDD, sid)
redis.call('ZREM', K_SCHED, sid)
if slot then
  local jid = slot_job_id(sid, tonumber(slot))
  local removed = redis.call('ZREM', K_DELAYED, jid) + redis.call('ZREM', K_PRIO, jid)
  if removed == 0 and redis.call('LREM', K_WAIT, 1, jid) > 0 then
    removed = 1
  end
  if removed > 0 then
    redis.call('DEL', jkey(jid), B .. 'l:' .. jid)
  end
end
return existed
