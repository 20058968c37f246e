-- All-or-nothing charge of one call's counters.
-- KEYS: the distinct counter hashes (field = bucket id, value = scaled amount).
-- ARGV[1] = d, the number of distinct keys; then for each key: current bucket, oldest live
-- bucket, time to live (ms); then for each charge: key index (1-based), scaled amount, and the
-- largest value the counter may reach ('' no limit, '-' can never fit).
-- Returns -1 when every charge was applied, else the 0-based index of the first refused one
-- (and nothing was written).
local d = tonumber(ARGV[1])
local totals, dead, current, alone = {}, {}, {}, {}
for k = 1, d do
  local bucket, oldest = ARGV[3 * k - 1], tonumber(ARGV[3 * k])
  local flat = redis.call('HGETALL', KEYS[k])
  local sum, stale, live = '0', nil, 0
  for f = 1, #flat, 2 do
    -- Buckets newer than now (a replica whose clock runs ahead) count too: deny early, never late.
    if tonumber(flat[f]) >= oldest then
      sum = dec_add(sum, flat[f + 1])
      live = live + 1
    else
      stale = stale or {}
      stale[#stale + 1] = flat[f]
    end
    -- The current bucket's value, kept so that writing it needs no second read.
    if flat[f] == bucket then current[k] = flat[f + 1] end
  end
  totals[k] = sum
  dead[k] = stale
  -- No live bucket but the current one: its new value is the running total.
  alone[k] = live == 0 or (live == 1 and current[k] ~= nil)
end
local first = 2 + 3 * d
local n = (#ARGV - first + 1) / 3
-- Charges in request order: the first whose counter, with this and the earlier charges of the
-- call added, passes its limit is refused.
local running, added = {}, {}
for i = 0, n - 1 do
  local at = first + 3 * i
  local k, max = tonumber(ARGV[at]), ARGV[at + 2]
  running[k] = dec_add(running[k] or totals[k], ARGV[at + 1])
  added[k] = dec_add(added[k] or '0', ARGV[at + 1])
  if max == '-' or (max ~= '' and dec_cmp(running[k], max) > 0) then return i end
end
-- Then every limit against its counter with all of the call's charges to it, so a later charge
-- of the same counter can never carry it past an earlier charge's limit.
for i = 0, n - 1 do
  local at = first + 3 * i
  local max = ARGV[at + 2]
  if max ~= '' and dec_cmp(running[tonumber(ARGV[at])], max) > 0 then return i end
end
for k = 1, d do
  if added[k] then
    local key, bucket = KEYS[k], ARGV[3 * k - 1]
    if dead[k] then redis.call('HDEL', key, unpack(dead[k])) end
    redis.call('HSET', key, bucket, alone[k] and running[k] or dec_add(current[k] or '0', added[k]))
    keep_for(key, tonumber(ARGV[3 * k + 1]))
  end
end
return -1
