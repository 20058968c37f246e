package dev.saferun.springai;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;

/** A fake CRM as {@code @Tool} methods; records every call that actually ran. */
public class SupportTools {
  public final List<String> ran = new CopyOnWriteArrayList<>();
  public final List<Map<String, Object>> contexts = new CopyOnWriteArrayList<>();

  @Tool(name = "get_customer", description = "Look a customer up")
  public String getCustomer(@ToolParam(description = "customer id") String id) {
    ran.add("get_customer " + id);
    return "{\"id\":\"" + id + "\",\"email\":\"" + id + "@example.com\"}";
  }

  @Tool(name = "create_refund", description = "Refund a customer")
  public String createRefund(String customer, int amount, ToolContext context) {
    ran.add("create_refund " + customer + " " + amount);
    contexts.add(context.getContext());
    return "refunded " + amount + " to " + customer;
  }

  @Tool(name = "send_email", description = "Email someone")
  public String sendEmail(String to, String body) {
    ran.add("send_email " + to);
    return "sent";
  }

  @Tool(name = "delete_customer", description = "Delete a customer")
  public String deleteCustomer(String id) {
    ran.add("delete_customer " + id);
    return "deleted";
  }
}
