-- Records one attempt on a loop-breaker counter and returns the attempts before it in the window.
-- KEYS[1] = attempt hash (field = bucket id, value = count); ARGV = current bucket, oldest live
-- bucket, time to live (ms).
local oldest = tonumber(ARGV[2])
local flat = redis.call('HGETALL', KEYS[1])
local before = 0
for f = 1, #flat, 2 do
  if tonumber(flat[f]) >= oldest then
    before = before + tonumber(flat[f + 1])
  else
    redis.call('HDEL', KEYS[1], flat[f])
  end
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
keep_for(KEYS[1], tonumber(ARGV[3]))
return before
