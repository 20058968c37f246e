package dev.saferun.policy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One rule of a tool's list (SPEC §2), validated. Shorthands are kept as written ({@link #rateLimit},
 * {@link #spend}, {@link #loop}) and their counters are resolved into {@link #counter}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name unique within the tool's list
 * @param action what the rule does
 * @param conditions all ANDed; possibly empty
 * @param onDeny the text for the agent when the rule denies or holds, or {@code null} for the default
 * @param counter the counter this rule charges ({@code state:}, {@code rate_limit},
 *     {@code spend.daily}), or {@code null}
 * @param limit the limit on the rule's own counter ({@code lte}/{@code lt} on the projected value),
 *     or {@code null}
 * @param limitInclusive {@code true} for {@code lte}
 * @param rateLimit the {@code rate_limit} shorthand, or {@code null}
 * @param spend the {@code spend} shorthand, or {@code null}
 * @param loop the {@code loop} shorthand, or {@code null}
 * @param approvalTimeout for {@code require_approval}, or {@code null} for the policy default
 * @param mode enforce or shadow
 * @param location where the rule was written
 */
public record Rule(
    String name,
    Action action,
    List<Condition> conditions,
    String onDeny,
    Counter counter,
    BigDecimal limit,
    boolean limitInclusive,
    RateLimit rateLimit,
    Spend spend,
    Loop loop,
    Duration approvalTimeout,
    Mode mode,
    SourceLocation location) {

  public Rule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(action, "action");
    conditions = List.copyOf(conditions);
    Objects.requireNonNull(mode, "mode");
  }

  /**
   * {@code rate_limit: N/window}: at most {@code limit} allowed calls per window.
   *
   * @param limit N
   * @param window the window
   * @param per context attributes that split the limit
   */
  public record RateLimit(long limit, Window window, List<String> per) {
    public RateLimit {
      per = List.copyOf(per);
    }

    /** The default denial message. */
    public String defaultMessage() {
      return "Rate limit of " + limit + " per " + window.text() + " reached. Try again later.";
    }
  }

  /**
   * {@code spend: {per_call, daily, amount_from}}.
   *
   * @param perCall the largest amount one call may spend, or {@code null}
   * @param daily the daily total, or {@code null}
   * @param amountFrom the {@code args.} path with the amount, or {@code null} for the tool's price
   * @param per context attributes that split the daily counter
   */
  public record Spend(BigDecimal perCall, BigDecimal daily, String amountFrom, List<String> per) {
    public Spend {
      per = List.copyOf(per);
    }
  }

  /**
   * {@code loop: {max_repeats, window}}.
   *
   * @param maxRepeats prior identical attempts allowed within the window
   * @param window the rolling window
   */
  public record Loop(int maxRepeats, Window window) {}

  /** Whether this rule is only advisory. */
  public boolean isShadow() {
    return mode == Mode.SHADOW;
  }
}
