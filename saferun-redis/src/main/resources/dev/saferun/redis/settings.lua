-- Records the deployment's fraction digits on first use and returns the recorded value, so
-- replicas configured differently refuse to share counters. KEYS[1] = settings key.
local v = redis.call('HGET', KEYS[1], 'fraction-digits')
if not v then
  redis.call('HSET', KEYS[1], 'fraction-digits', ARGV[1])
  return ARGV[1]
end
return v
