package dev.saferun;

import static dev.saferun.Fixtures.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.Decision.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression: shadow policies changed outcomes through {@code match}. SPEC §7: a shadow policy
 * never changes the outcome; the set "still requires that some enforcing policy or default
 * decides; a set of only shadow policies allows". Before the fix, a call governed only by a
 * shadow policy of a mixed set was allowed (fail open: adding an observer removed the
 * "No policy applies" denial), and a shadow-only set denied calls none of its policies matched.
 * Found by policy test files in saferun-test/src/test/policies (shadow_scoping.test.yaml).
 */
class ShadowPolicyNeverDecidesRegressionTest {
  private final ManualClock clock = new ManualClock("2026-01-15T10:00:00Z");
  private static final String PROD = "version: \"1\"\nname: prod\nmatch: {environment: prod}\n"
      + "default: allow\n";
  private static final String OBSERVER = "version: \"1\"\nname: observer\nmode: shadow\n"
      + "default: deny\n";
  private static final String SCOPED_DRY_RUN = "version: \"1\"\nname: dry-run\nmode: shadow\n"
      + "match: {environment: prod}\ndefault: deny\n";

  @Test
  void aCallThatOnlyAShadowPolicyGovernsIsDeniedWhenTheSetEnforces() {
    SafeRun s = Fixtures.safeRun(clock, PROD, OBSERVER);

    Decision dev = call(s, "list", "{}", CallContext.of("environment", "dev"));

    assertThat(dev.outcome()).isEqualTo(Outcome.DENY);
    assertThat(dev.message()).isEqualTo("No policy applies to this call");
    assertThat(s.visibleTools(List.of("list"), CallContext.of("environment", "dev"))).isEmpty();
  }

  @Test
  void theEnforcingPolicyStillDecidesWhereItMatches() {
    SafeRun s = Fixtures.safeRun(clock, PROD, OBSERVER);

    Decision prod = call(s, "list", "{}", CallContext.of("environment", "prod"));

    assertThat(prod.outcome()).isEqualTo(Outcome.ALLOW);
    assertThat(prod.policy()).isEqualTo("prod");
    assertThat(prod.shadow().outcome()).isEqualTo(Outcome.DENY);
  }

  @Test
  void aSetOfOnlyShadowPoliciesAllowsACallNoneOfThemMatches() {
    SafeRun s = Fixtures.safeRun(clock, SCOPED_DRY_RUN);

    Decision dev = call(s, "list", "{}", CallContext.of("environment", "dev"));

    assertThat(dev.outcome()).isEqualTo(Outcome.ALLOW);
    assertThat(dev.shadow()).isEqualTo(new Decision.ShadowVerdict(Outcome.DENY, null, null,
        "No policy applies to this call"));
    assertThat(s.visibleTools(List.of("list"), CallContext.of("environment", "dev")))
        .containsExactly("list");
  }

  @Test
  void aSetOfOnlyShadowPoliciesStillRefusesArgumentsThatAreNotAnObject() {
    SafeRun s = Fixtures.safeRun(clock, SCOPED_DRY_RUN);

    Decision d = call(s, "list", "[1]", CallContext.of("environment", "dev"));

    assertThat(d.outcome()).isEqualTo(Outcome.DENY);
    assertThat(d.message()).isEqualTo("Tool arguments must be a JSON object");
  }
}
