-- Takes charges back from the buckets they went into, if those still exist; never below zero.
-- KEYS[i] = counter hash of entry i; ARGV[2i-1] = its bucket, ARGV[2i] = its scaled amount.
for i = 1, #KEYS do
  local bucket = ARGV[2 * i - 1]
  local cur = redis.call('HGET', KEYS[i], bucket)
  if cur then
    local v = dec_sub(cur, ARGV[2 * i])
    if v == '0' then redis.call('HDEL', KEYS[i], bucket) else redis.call('HSET', KEYS[i], bucket, v) end
  end
end
return 0
