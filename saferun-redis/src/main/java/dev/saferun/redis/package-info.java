/**
 * SafeRun state on Redis, shared by every replica of an agent: {@link
 * dev.saferun.redis.RedisStateStore} (counters, rate limits, loop breakers; one Lua script per
 * charge) and {@link dev.saferun.redis.RedisApprovalStore} (approval requests with pub/sub
 * wake-ups). Both use Lettuce, fail closed within a bounded command timeout, and reconnect by
 * themselves. Both work on a standalone Redis, under Sentinel, or on a Redis Cluster ({@code
 * clusterBuilder}). See {@code docs/distributed.md} for deployment, failure modes and sizing.
 */
package dev.saferun.redis;
