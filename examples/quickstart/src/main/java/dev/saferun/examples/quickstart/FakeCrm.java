package dev.saferun.examples.quickstart;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.saferun.ToolCall;
import dev.saferun.ToolExecutor;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The support agent's tools, against an in-memory CRM and payment system: nothing leaves the
 * process. It does what it is asked without any checks of its own, like most real tools; the
 * limits live in the policy, in front of it.
 *
 * <p>Not thread-safe (the demo is single-threaded).
 */
final class FakeCrm implements ToolExecutor {
  /** Every tool this CRM offers, as a model would be told about them. */
  static final List<String> TOOLS = List.of(
      "list_customers", "get_customer", "create_refund", "send_email", "delete_customer");

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS) // money: exact decimals
      .build();

  private final Map<String, String> customers = new LinkedHashMap<>();
  private final List<BigDecimal> refunds = new ArrayList<>();
  private final List<String> deleted = new ArrayList<>();
  private final List<String> emailsSent = new ArrayList<>();

  FakeCrm() {
    String[] names = {"Ada Park", "Dana Reyes", "Sam Okafor", "Lee Chen", "Mia Rossi",
        "Noah Berg", "Ivy Tanaka", "Omar Haddad", "Zoe Martin", "Kai Novak"};
    for (int i = 0; i < names.length; i++) {
      String first = names[i].substring(0, names[i].indexOf(' ')).toLowerCase();
      customers.put(String.format("cus_%03d", i + 1), names[i] + " <" + first + "@example.com>");
    }
  }

  /** The customer ids, in order. */
  List<String> customerIds() {
    return List.copyOf(customers.keySet());
  }

  @Override
  public String execute(ToolCall call) throws Exception {
    JsonNode args = call.arguments() == null ? JSON.createObjectNode()
        : JSON.readTree(call.arguments());
    switch (call.tool()) {
      case "list_customers":
        return customers.size() + " customers: " + String.join(", ", customers.keySet());
      case "get_customer": {
        String id = args.path("customer_id").asText();
        String c = customers.get(id);
        return c == null ? "No customer " + id : id + " " + c;
      }
      case "create_refund": {
        BigDecimal amount = args.path("amount").decimalValue();
        refunds.add(amount);
        return String.format("Refund re_%d of %s issued to %s", 1000 + refunds.size(),
            dollars(amount), args.path("customer_id").asText());
      }
      case "send_email": {
        emailsSent.add(args.path("to").asText());
        return "Email sent to " + args.path("to").asText();
      }
      case "delete_customer": {
        String id = args.path("customer_id").asText();
        deleted.add(id);
        customers.remove(id);
        return "Customer " + id + " deleted";
      }
      default:
        throw new IllegalArgumentException("no such tool: " + call.tool());
    }
  }

  /** The sum of every refund actually issued. */
  BigDecimal totalRefunded() {
    return refunds.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
  }

  /** How many refunds were issued. */
  int refundCount() {
    return refunds.size();
  }

  /** Customers actually deleted. */
  List<String> deleted() {
    return List.copyOf(deleted);
  }

  /** Recipients of emails actually sent. */
  List<String> emailsSent() {
    return List.copyOf(emailsSent);
  }

  static String dollars(BigDecimal amount) {
    return "$" + (amount.scale() <= 2 ? amount.setScale(2, RoundingMode.UNNECESSARY) : amount)
        .toPlainString();
  }
}
