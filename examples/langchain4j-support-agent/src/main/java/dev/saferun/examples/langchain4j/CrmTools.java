package dev.saferun.examples.langchain4j;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * The support agent's tools: a fake CRM. Every method here is what a real integration would do;
 * SafeRun decides before any of them runs. Thread-safe.
 */
final class CrmTools {
  private final List<String> refunds = new ArrayList<>();
  private BigDecimal refunded = BigDecimal.ZERO;

  @Tool(name = "lookup_customer", value = "Looks a customer up by id")
  public String lookupCustomer(@P("customer id, e.g. cus_042") String customerId) {
    return "{\"id\":\"" + customerId + "\",\"name\":\"Jordan Lee\",\"plan\":\"pro\"}";
  }

  @Tool(name = "create_refund", value = "Refunds an amount in US dollars to a customer")
  public synchronized String createRefund(@P("customer id") String customerId,
      @P("amount in dollars") BigDecimal amount) {
    String id = String.format("re_%04d", refunds.size() + 1);
    refunds.add(customerId + " " + amount);
    refunded = refunded.add(amount);
    return "Refund " + id + " of $" + amount.setScale(2, RoundingMode.HALF_EVEN) + " issued to "
        + customerId;
  }

  @Tool(name = "delete_customer", value = "Deletes a customer and all their data")
  public String deleteCustomer(@P("customer id") String customerId) {
    throw new IllegalStateException("unreachable in this demo: SafeRun hides this tool");
  }

  /** The refunds that actually ran, as {@code customer amount}. */
  synchronized List<String> refunds() {
    return List.copyOf(refunds);
  }

  synchronized BigDecimal refunded() {
    return refunded;
  }
}
