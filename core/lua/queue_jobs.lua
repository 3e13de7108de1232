-- ARGV: states (comma-separated: waiting, active, delayed, completed, failed), start, end
-- (inclusive, -1: the last), applied to each state's own order: waiting in the order they
-- will run (the wait list, then by priority), active and delayed by time, completed and
-- failed newest first.
-- Reply: {id, fields, id, fields, ...}.
local first, last = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local function emit(ids)
  for _, id in ipairs(ids) do
    local fields = redis.call('HGETALL', jkey(id))
    if #fields > 0 then
      out[#out + 1] = id
      out[#out + 1] = fields
    end
  end
end
for state in string.gmatch(ARGV[1], '[^,]+') do
  if state == 'waiting' then
    local n = redis.call('LLEN', K_WAIT)
    emit(redis.call('LRANGE', K_WAIT, first, last))
    -- The prioritized jobs follow the wait list in one sequence.
    local pfirst = math.max(first - n, 0)
    local plast = last
    if last >= 0 then
      plast = last - n
    end
    if last < 0 or plast >= 0 then
      emit(redis.call('ZRANGE', K_PRIO, pfirst, plast))
    end
  elseif state == 'active' then
    emit(redis.call('ZRANGE', K_ACTIVE, first, last))
  elseif state == 'delayed' then
    emit(redis.call('ZRANGE', K_DELAYED, first, last))
  elseif state == 'completed' then
    emit(redis.call('ZREVRANGE', K_COMPLETED, first, last))
  elseif state == 'failed' then
    emit(redis.call('ZREVRANGE', K_FAILED, first, last))
  end
end
return out
