-- A counter's value: the sum of its live buckets. KEYS[1] = counter hash, ARGV[1] = oldest live
-- bucket. Read-only.
local oldest = tonumber(ARGV[1])
local flat = redis.call('HGETALL', KEYS[1])
local sum = '0'
for f = 1, #flat, 2 do
  if tonumber(flat[f]) >= oldest then sum = dec_add(sum, flat[f + 1]) end
end
return sum
