package dev.saferun.policy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An ordered list of policies evaluated together (SPEC §5). For a call, the policies whose
 * {@code match} holds are evaluated; none matching denies the call; across enforcing policies
 * any deny wins (the first in order gives the message), then any hold, then allow.
 *
 * <p>Immutable and thread-safe.
 */
public final class PolicySet {
  private final List<Policy> policies;
  private final String version;

  private PolicySet(List<Policy> policies) {
    if (policies.isEmpty()) {
      throw new IllegalArgumentException("a policy set needs at least one policy");
    }
    this.policies = List.copyOf(policies);
    StringBuilder sb = new StringBuilder();
    for (Policy p : policies) {
      sb.append(p.name()).append('=').append(p.version()).append('\n');
    }
    this.version = PolicyValidator.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** A set of the given policies, in this order. */
  public static PolicySet of(Policy... policies) {
    return new PolicySet(Arrays.asList(policies));
  }

  /** A set of the given policies, in this order. */
  public static PolicySet of(List<Policy> policies) {
    Objects.requireNonNull(policies, "policies");
    return new PolicySet(policies);
  }

  /**
   * Loads policy files, in the order given.
   *
   * @throws dev.saferun.PolicyConfigException for the first file that does not load, listing
   *     every problem in it
   */
  public static PolicySet load(Path... files) {
    List<Policy> list = new ArrayList<>();
    for (Path f : files) {
      list.add(PolicyLoader.load(f));
    }
    return new PolicySet(list);
  }

  /** The policies in evaluation order. */
  public List<Policy> policies() {
    return policies;
  }

  /** sha-256 over the names and versions of every policy in order. */
  public String version() {
    return version;
  }

  @Override
  public String toString() {
    return "PolicySet" + policies;
  }
}
