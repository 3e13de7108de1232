-- Finish deliveries and, in the same call, take the next jobs: one round trip per job for a
-- busy worker (and one for several jobs finished together).
-- ARGV: f, then per finished delivery: id, token, outcome (completed | failed |
-- unrecoverable | cancelled | timeout), value (the return value, or the failed reason),
-- and for any outcome but completed two more: stack ('' or one error's stack text), r (a
-- draw in [0, 1) for the backoff jitter) -- a completion, the hot path, needs neither;
-- then the take arguments: worker_id, lock_ms, limiter_max, limiter_duration_ms, n (0:
-- take nothing).
-- Reply: {fins, take reply...}: fins one code per delivery: 0 refused (the token no longer
-- holds a live lease: the job was or will be delivered again; counted in meta.late),
-- 1 completed, 2 failed for good, 3 retry scheduled. The take reply is {0, -1} when n is 0.
local f = tonumber(ARGV[1])
local fins = {}
-- Batched writes, one command per 1000 arguments at most (unpack() has a stack limit):
-- `cmd key items...`, then the list is empty again.
local function flush(cmd, key, items)
  if #items > 0 then
    redis.call(cmd, key, unpack(items))
  end
  return {}
end
-- Completed jobs without a removal rule enter the completed set in one ZADD per 500; the
-- set is made whole before any removal rule looks at it.
local completed = {}
local function flush_completed()
  completed = flush('ZADD', K_COMPLETED, completed)
end
-- The completed jobs' events make one entry per call, `ev completed` then `id <id> rv
-- <value>` per job: one XADD per call rather than one per job. Its trim keeps about
-- 10,000 jobs' events however many jobs an entry holds.
local done = {}
local function flush_done()
  if #done > 0 then
    local jobs = #done / 4
    local keep = math.max(100, math.floor(10000 / jobs))
    redis.call('XADD', K_EVENTS, 'MAXLEN', '~', keep, '*', 'ev', 'completed', unpack(done))
    done = {}
  end
end
-- Whether a lease ending at `lx` (ms, as the take wrote it) is live: decimal strings of
-- one length compare as their numbers do, and a parse per job is the dearer way to ask.
local function live(lx)
  return lx and (#lx > #now_s or #lx == #now_s and lx >= now_s)
end
-- Honoured deliveries leave `active` in one ZREM per 1000.
local gone = {}
local late = 0
local a = 2
for i = 0, f - 1 do
  local id, token, outcome, value = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local stack, r = '', 0
  if outcome == 'completed' then
    a = a + 4
  else
    stack, r = ARGV[a + 4], tonumber(ARGV[a + 5])
    a = a + 6
  end
  local key = jkey(id)
  local fin
  -- Only fields the job has: asking for one it lacks scans its whole hash (what `am` and
  -- `ddid` cost a first completion: bench/results/rust-queue.md). A first delivery (token
  -- '1') has no attempt before it, so `am` is not asked for; the deduplication id is read
  -- from the options (`ddid` mirrors it for the scripts that delete jobs).
  local j
  if token == '1' then
    j = redis.call('HMGET', key, 'tok', 'lx', 'opts')
  else
    j = redis.call('HMGET', key, 'tok', 'lx', 'opts', 'am')
  end
  -- The token must be the current delivery's and its lease live. A delivery that ended
  -- (below: `lx` 0) or whose lease ran out (a stalled job, recovered or not: its `lx` is
  -- past) is refused, so the hash alone tells, and the honoured jobs leave `active` in one
  -- ZREM before the take.
  if j[1] ~= token or not live(j[2]) then
    late = late + 1
    event('lost', 'id', id, 'tok', token)
    fin = 0
  else
    gone[#gone + 1] = id
    if #gone == 1000 then
      gone = flush('ZREM', K_ACTIVE, gone)
    end
    local o = decode_opts(j[3])
    local ddid = o['deduplication'] and o['deduplication']['id']
    -- Attempts made, this one included, as the hash stores it ('%d': a Lua number handed
    -- to redis.call is printed as a float). A first attempt, most jobs' only one, is '1'
    -- with no parse and no format.
    local am, am_s = 1, '1'
    if j[4] then
      am = tonumber(j[4]) + 1
      am_s = fmt(am)
    end
    if outcome == 'completed' then
      redis.call('HSET', key, 'rv', value, 'fon', now_s, 'am', am_s, 'lx', '0')
      local spec = o['remove_on_complete']
      if spec == nil or spec == false then
        completed[#completed + 1] = now_s
        completed[#completed + 1] = id
        if #completed == 1000 then
          flush_completed()
        end
      else
        flush_completed()
        redis.call('ZADD', K_COMPLETED, now_s, id)
      end
      done[#done + 1] = 'id'
      done[#done + 1] = id
      done[#done + 1] = 'rv'
      done[#done + 1] = value
      if #done == 1000 then
        flush_done()
      end
      release_dedup(id, ddid)
      apply_removal(id, spec, K_COMPLETED)
      fin = 1
    else
      -- The stack list is read only to add to it: a completion, the hot path, never does.
      local st
      if stack ~= '' then
        local prev = redis.call('HGET', key, 'st')
        local list = prev and cjson.decode(prev) or {}
        table.insert(list, stack)
        while #list > 10 do
          table.remove(list, 1)
        end
        st = cjson.encode(list)
      end
      if outcome == 'failed' or outcome == 'timeout' then
        local attempts = o['attempts'] or 1
        if am < attempts then
          local delay = 0
          local b = o['backoff']
          if b then
            delay = b['delay'] or 0
            if b['type'] == 'exponential' then
              delay = delay * 2 ^ (am - 1)
            end
            if b['jitter'] then
              delay = delay - math.floor(delay * b['jitter'] * r)
            end
            -- Past ~1,000 years a delay means "never soon"; keep it an exact integer.
            delay = math.floor(math.min(delay, 2 ^ 45))
          end
          redis.call('HSET', key, 'am', am_s, 'fr', value, 'lx', '0')
          if st then
            redis.call('HSET', key, 'st', st)
          end
          if delay > 0 then
            push_delayed(id, now + delay)
            event('retrying', 'id', id, 'delay', fmt(delay), 'fr', value)
          else
            push_ready(id, o['priority'], o['lifo'])
            event('retrying', 'id', id, 'delay', '0', 'fr', value)
          end
          fin = 3
        end
      end
      if not fin then
        redis.call('HSET', key, 'am', am_s, 'fr', value, 'fon', now_s, 'lx', '0')
        if st then
          redis.call('HSET', key, 'st', st)
        end
        redis.call('ZADD', K_FAILED, now_s, id)
        event('failed', 'id', id, 'fr', value, 'am', am_s)
        release_dedup(id, ddid)
        -- Age-based removal may reach into the completed set: it must be whole.
        flush_completed()
        apply_removal(id, o['remove_on_fail'], K_FAILED)
        fin = 2
      end
    end
  end
  fins[i + 1] = fin
end
flush_completed()
flush_done()
gone = flush('ZREM', K_ACTIVE, gone)
if late > 0 then
  redis.call('HINCRBY', K_META, 'late', late)
end
local t = a
local n = tonumber(ARGV[t + 4])
local reply = {0, -1}
if n > 0 then
  reply = take(ARGV[t], tonumber(ARGV[t + 1]), tonumber(ARGV[t + 2]), tonumber(ARGV[t + 3]), n)
end
table.insert(reply, 1, fins)
return reply
