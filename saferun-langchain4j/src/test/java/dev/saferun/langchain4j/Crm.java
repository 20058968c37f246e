package dev.saferun.langchain4j;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import java.util.ArrayList;
import java.util.List;

/** A fake CRM with three tools; records the calls that actually ran. Thread-safe. */
class Crm {
  private final List<String> calls = new ArrayList<>();

  @Tool(name = "lookup_customer", value = "Finds a customer by id")
  public String lookupCustomer(@P("customer id") String customerId) {
    record("lookup_customer " + customerId);
    return "{\"id\":\"" + customerId + "\",\"name\":\"Ada\"}";
  }

  @Tool(name = "create_refund", value = "Refunds an amount in dollars to a customer")
  public String createRefund(@P("customer id") String customerId, @P("dollars") int amount) {
    beforeRefund();
    record("create_refund " + customerId + " " + amount);
    return "Refunded $" + amount + " to " + customerId;
  }

  @Tool(name = "delete_customer", value = "Deletes a customer")
  public String deleteCustomer(@P("customer id") String customerId) {
    record("delete_customer " + customerId);
    return "Deleted " + customerId;
  }

  /** Runs before each refund; tests override it to hold the tool's thread. */
  protected void beforeRefund() {}

  synchronized void record(String call) {
    calls.add(call);
  }

  synchronized List<String> calls() {
    return List.copyOf(calls);
  }
}
