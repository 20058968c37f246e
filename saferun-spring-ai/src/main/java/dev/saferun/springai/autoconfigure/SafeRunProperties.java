package dev.saferun.springai.autoconfigure;

import dev.saferun.audit.AuditSink;
import dev.saferun.springai.OnHold;
import dev.saferun.springai.SafeRunAdvisor;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * SafeRun's Spring Boot settings, prefix {@code saferun}. Mutable JavaBean bound once at
 * startup; not thread-safe while binding, read-only afterwards.
 */
@ConfigurationProperties(prefix = "saferun")
public class SafeRunProperties {

  /** Whether SafeRun guards Spring AI tool calls. */
  private boolean enabled = true;

  /**
   * Policy files as Spring resource locations (classpath:, file:, or patterns such as
   * classpath*:policies/*.yaml), evaluated in this order as one policy set.
   */
  private List<String> policies = new ArrayList<>(List.of("classpath:saferun.yaml"));

  /**
   * enforce: decisions are applied. shadow: every policy is loaded in shadow mode, so would-be
   * decisions are audited and nothing is blocked (for rolling a policy out).
   */
  private Mode mode = Mode.ENFORCE;

  /**
   * Context attributes every tool call carries unless the request sets them, e.g.
   * saferun.context.agent=support, saferun.context.environment=prod.
   */
  private Map<String, String> context = new LinkedHashMap<>();

  /** Prices of tools, for spend rules without amount_from (tool name to amount). */
  private Map<String, BigDecimal> prices = new LinkedHashMap<>();

  private final Reload reload = new Reload();

  private final Audit audit = new Audit();

  private final Approvals approvals = new Approvals();

  private final Advisor advisor = new Advisor();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public List<String> getPolicies() {
    return policies;
  }

  public void setPolicies(List<String> policies) {
    this.policies = policies;
  }

  public Mode getMode() {
    return mode;
  }

  public void setMode(Mode mode) {
    this.mode = mode;
  }

  public Map<String, String> getContext() {
    return context;
  }

  public void setContext(Map<String, String> context) {
    this.context = context;
  }

  public Map<String, BigDecimal> getPrices() {
    return prices;
  }

  public void setPrices(Map<String, BigDecimal> prices) {
    this.prices = prices;
  }

  public Reload getReload() {
    return reload;
  }

  public Audit getAudit() {
    return audit;
  }

  public Approvals getApprovals() {
    return approvals;
  }

  public Advisor getAdvisor() {
    return advisor;
  }

  /** Whether decisions are applied or only audited. */
  public enum Mode {
    /** Decisions are applied. */
    ENFORCE,
    /** Every policy runs in shadow mode: audited, never blocking. */
    SHADOW
  }

  /** Hot reload of policy files. Not thread-safe while binding. */
  public static class Reload {
    /** Whether policy files on the file system are watched and reloaded when they change. */
    private boolean enabled = true;

    /** How long changes must be quiet before a reload (an editor's save is several events). */
    private Duration debounce = Duration.ofMillis(200);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public Duration getDebounce() {
      return debounce;
    }

    public void setDebounce(Duration debounce) {
      this.debounce = debounce;
    }
  }

  /** Audit settings. Not thread-safe while binding. */
  public static class Audit {
    /** Whether every decision is logged as one line on the SLF4J logger dev.saferun.decisions. */
    private boolean log = true;

    /**
     * What a failing audit sink does: fail-closed denies the call (nothing runs that was not
     * recorded); log-and-continue logs the failure and lets the decision stand.
     */
    private AuditSink.FailurePolicy failure = AuditSink.FailurePolicy.FAIL_CLOSED;

    public boolean isLog() {
      return log;
    }

    public void setLog(boolean log) {
      this.log = log;
    }

    public AuditSink.FailurePolicy getFailure() {
      return failure;
    }

    public void setFailure(AuditSink.FailurePolicy failure) {
      this.failure = failure;
    }
  }

  /** Approval settings. Not thread-safe while binding. */
  public static class Approvals {
    /**
     * What a call held in defer mode does: text returns the approval-required text to the model;
     * exception stops the request with a resumable ApprovalPendingException.
     */
    private OnHold onHold = OnHold.TEXT;

    private final Webhook webhook = new Webhook();

    private final Slack slack = new Slack();

    public OnHold getOnHold() {
      return onHold;
    }

    public void setOnHold(OnHold onHold) {
      this.onHold = onHold;
    }

    public Webhook getWebhook() {
      return webhook;
    }

    public Slack getSlack() {
      return slack;
    }
  }

  /** A signed webhook called for every new hold. Not thread-safe while binding. */
  public static class Webhook {
    /** URL that receives a JSON POST for every new approval request; unset = no webhook. */
    private URI url;

    /** Secret for the HMAC-SHA256 signature header of webhook calls. */
    private String secret;

    public URI getUrl() {
      return url;
    }

    public void setUrl(URI url) {
      this.url = url;
    }

    public String getSecret() {
      return secret;
    }

    public void setSecret(String secret) {
      this.secret = secret;
    }
  }

  /** A Slack incoming webhook told about every new hold. Not thread-safe while binding. */
  public static class Slack {
    /** Slack incoming-webhook URL; unset = no Slack message. */
    private URI webhookUrl;

    /** Base URL of the approval API, for approve/deny links in the Slack message. */
    private String approveUrlBase;

    public URI getWebhookUrl() {
      return webhookUrl;
    }

    public void setWebhookUrl(URI webhookUrl) {
      this.webhookUrl = webhookUrl;
    }

    public String getApproveUrlBase() {
      return approveUrlBase;
    }

    public void setApproveUrlBase(String approveUrlBase) {
      this.approveUrlBase = approveUrlBase;
    }
  }

  /** The ChatClient advisor. Not thread-safe while binding. */
  public static class Advisor {
    /** Order of the SafeRun advisor; must stay below the ToolCallingAdvisor's order. */
    private int order = SafeRunAdvisor.DEFAULT_ORDER;

    public int getOrder() {
      return order;
    }

    public void setOrder(int order) {
      this.order = order;
    }
  }
}
