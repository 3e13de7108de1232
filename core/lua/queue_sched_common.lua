-- Shared by the scheduler scripts (core/src/queue/scripts.rs puts it after
-- queue_common.lua in queue_sched_*.lua only: the other scripts do not need it).

-- The id of scheduler `sid`'s job for slot `slot` (ms): one job per slot, however many
-- processes upsert or advance the scheduler.
local function slot_job_id(sid, slot)
  return 'repeat:' .. sid .. ':' .. fmt(slot)
end

-- Make `slot` the scheduler's pending slot and add its job (name, data, opts JSON) unless
-- it exists: delayed until the slot, ready at once when the slot has come. Its id.
local function add_slot_job(sid, slot, name, data, opts)
  redis.call('ZADD', K_SCHED, fmt(slot), sid)
  local jid = slot_job_id(sid, slot)
  local key = jkey(jid)
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'name', name, 'data', data, 'opts', opts, 'ts', now_s,
      'sid', sid, 'slot', fmt(slot))
    if slot > now then
      push_delayed(jid, slot)
      event('delayed', 'id', jid, 'at', fmt(slot))
    else
      local o = decode_opts(opts)
      push_ready(jid, o['priority'], o['lifo'])
      event('waiting', 'id', jid)
    end
  end
  return jid
end
