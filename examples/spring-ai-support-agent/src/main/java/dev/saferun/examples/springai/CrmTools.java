package dev.saferun.examples.springai;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.stereotype.Component;

/**
 * The support agent's tools: a fake CRM and payment system. Plain Spring AI {@code @Tool}
 * methods; SafeRun wraps them when a request is made, so none of them knows about SafeRun.
 *
 * <p>Thread-safe (synchronized): tools may be called from several requests at once.
 */
@Component
public class CrmTools {
  private final List<String> refunds = new ArrayList<>();
  private final List<String> deleted = new ArrayList<>();
  private BigDecimal refunded = BigDecimal.ZERO;

  @Tool(name = "lookup_customer", description = "Look a customer up by id")
  public String lookupCustomer(@ToolParam(description = "customer id, e.g. cus_042")
      String customerId) {
    return "Customer " + customerId + ": Jordan Lee, jordan.lee@example.com, order #8812";
  }

  @Tool(name = "create_refund", description = "Refund an amount in dollars to a customer")
  public synchronized String createRefund(String customerId, BigDecimal amount, String reason) {
    refunds.add(customerId + " " + amount.setScale(2, RoundingMode.HALF_EVEN));
    refunded = refunded.add(amount);
    return "Refund re_" + (1000 + refunds.size()) + " of $"
        + amount.setScale(2, RoundingMode.HALF_EVEN) + " issued to " + customerId;
  }

  @Tool(name = "delete_customer", description = "Delete a customer account")
  public synchronized String deleteCustomer(String customerId) {
    deleted.add(customerId);
    return "Customer " + customerId + " deleted";
  }

  /** The refunds that ran, as {@code customer amount}. */
  public synchronized List<String> refunds() {
    return List.copyOf(refunds);
  }

  /** Their total. */
  public synchronized BigDecimal refunded() {
    return refunded;
  }

  /** Customers actually deleted. */
  public synchronized List<String> deleted() {
    return List.copyOf(deleted);
  }
}
