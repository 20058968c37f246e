package dev.saferun.springai.autoconfigure;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.PolicyConfigException;
import dev.saferun.SafeRun;
import dev.saferun.approval.OnPause;
import dev.saferun.approval.SlackNotifier;
import dev.saferun.approval.WebhookNotifier;
import dev.saferun.audit.AuditSink;
import dev.saferun.spi.ApprovalStore;
import dev.saferun.spi.StateStore;
import dev.saferun.springai.SafeRunAdvisor;
import dev.saferun.springai.SafeRunContextResolver;
import dev.saferun.springai.SafeRunMetrics;
import dev.saferun.springai.SafeRunSpringAi;
import dev.saferun.springai.actuate.SafeRunEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.ai.chat.client.ChatClientBuilderCustomizer;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Spring Boot auto-configuration of SafeRun for Spring AI. With the module on the class path and
 * a policy file at {@code saferun.policies} (default {@code classpath:saferun.yaml}):
 * <ul>
 *   <li>a {@link SafeRun} bean built from the policy files and the {@code saferun.*} properties,
 *       using the application's {@link Clock}, {@link StateStore}, {@link ApprovalStore},
 *       {@link AuditSink} and {@link OnPause} beans when it has them; policy files on the file
 *       system are watched and reloaded ({@link PolicyFileWatcher});</li>
 *   <li>a {@link SafeRunSpringAi} bean, and a bean post-processor that wraps every
 *       {@code ToolCallback} bean and the {@code ToolCallingManager} bean;</li>
 *   <li>a {@link SafeRunAdvisor} added to every auto-configured {@code ChatClient.Builder};</li>
 *   <li>{@link SafeRunMetrics} when Micrometer is present, and the {@code saferun} actuator
 *       endpoint when the actuator is.</li>
 * </ul>
 * Every bean backs off when the application defines its own ({@code @ConditionalOnMissingBean});
 * {@code saferun.enabled=false} turns all of it off.
 *
 * <p>Stateless and thread-safe: configuration only.
 */
@AutoConfiguration(
    afterName = "org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration",
    beforeName = "org.springframework.ai.model.chat.client.autoconfigure.ChatClientAutoConfiguration")
@ConditionalOnClass({SafeRun.class, ToolCallback.class})
@ConditionalOnBooleanProperty(name = "saferun.enabled", matchIfMissing = true)
@EnableConfigurationProperties(SafeRunProperties.class)
public final class SafeRunAutoConfiguration {
  private static final Logger LOG = LoggerFactory.getLogger(SafeRunAutoConfiguration.class);

  /** Wraps tool beans and the tool calling manager; static so it is registered early. */
  @Bean
  static SafeRunToolBeanPostProcessor safeRunToolBeanPostProcessor(
      ObjectProvider<SafeRunSpringAi> saferun) {
    return new SafeRunToolBeanPostProcessor(saferun);
  }

  /** SafeRun for Spring AI, observing through the application's observation registry. */
  @Bean
  @ConditionalOnMissingBean
  SafeRunSpringAi safeRunSpringAi(SafeRun safeRun, SafeRunProperties properties,
      ObjectProvider<ObservationRegistry> observations) {
    return SafeRunSpringAi.builder(safeRun)
        .defaultContext(CallContext.of(properties.getContext()))
        .onHold(properties.getApprovals().getOnHold())
        .observationRegistry(observations.getIfUnique(() -> ObservationRegistry.NOOP))
        .build();
  }

  /** The {@code SafeRun} bean and its policy files, unless the application builds its own. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(SafeRun.class)
  static class PolicyConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SafeRunPolicies safeRunPolicies(SafeRunProperties properties, ApplicationContext resources) {
      try {
        return SafeRunPolicies.resolve(properties.getPolicies(), resources,
            properties.getMode() == SafeRunProperties.Mode.SHADOW);
      } catch (PolicyConfigException e) {
        throw new IllegalStateException("SafeRun cannot find its policies (saferun.policies="
            + properties.getPolicies() + "):\n" + e.getMessage(), e);
      }
    }

    @Bean
    @ConditionalOnMissingBean
    SafeRun safeRun(SafeRunPolicies policies, SafeRunProperties properties,
        ObjectProvider<Clock> clock, ObjectProvider<StateStore> stateStore,
        ObjectProvider<ApprovalStore> approvalStore, ObjectProvider<AuditSink> auditSinks,
        ObjectProvider<OnPause> onPause) {
      SafeRun.Builder b = SafeRun.builder();
      try {
        b.policies(policies.load());
      } catch (PolicyConfigException e) {
        throw new IllegalStateException("SafeRun policies do not load:\n" + e.getMessage(), e);
      }
      Clock c = clock.getIfUnique(Clock::system);
      b.clock(c);
      stateStore.ifUnique(b::stateStore);
      approvalStore.ifUnique(b::approvalStore);
      b.prices(properties.getPrices());
      List<AuditSink> sinks = new ArrayList<>(auditSinks.orderedStream().toList());
      if (properties.getAudit().isLog()) {
        sinks.add(AuditSink.slf4j());
      }
      b.auditSink(sinks.isEmpty() ? AuditSink.NONE
          : sinks.size() == 1 ? sinks.get(0) : AuditSink.composite(sinks.toArray(new AuditSink[0])));
      b.auditFailure(properties.getAudit().getFailure());
      List<OnPause> callbacks = new ArrayList<>(onPause.orderedStream().toList());
      SafeRunProperties.Approvals a = properties.getApprovals();
      if (a.getWebhook().getUrl() != null) {
        WebhookNotifier.Builder w = WebhookNotifier.builder(a.getWebhook().getUrl()).clock(c);
        if (a.getWebhook().getSecret() != null) {
          w.secret(a.getWebhook().getSecret());
        }
        callbacks.add(w.build());
      }
      if (a.getSlack().getWebhookUrl() != null) {
        SlackNotifier.Builder s = SlackNotifier.builder(a.getSlack().getWebhookUrl()).clock(c);
        if (a.getSlack().getApproveUrlBase() != null) {
          s.approveUrlBase(a.getSlack().getApproveUrlBase());
        }
        callbacks.add(s.build());
      }
      b.onPause(all(callbacks));
      SafeRun safeRun = b.build();
      LOG.info("SafeRun enforces {} in {} mode", policies.locations(),
          properties.getMode().name().toLowerCase(Locale.ROOT));
      return safeRun;
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "saferun.reload.enabled", matchIfMissing = true)
    PolicyFileWatcher safeRunPolicyFileWatcher(SafeRunPolicies policies, SafeRun safeRun,
        SafeRunProperties properties) {
      return new PolicyFileWatcher(policies, safeRun, properties.getReload().getDebounce());
    }

    /** Every callback, each isolated from the others' failures (SafeRun logs a thrown one). */
    private static OnPause all(List<OnPause> callbacks) {
      if (callbacks.isEmpty()) {
        return OnPause.NONE;
      }
      if (callbacks.size() == 1) {
        return callbacks.get(0);
      }
      List<OnPause> list = List.copyOf(callbacks);
      return request -> {
        for (OnPause p : list) {
          try {
            p.onPause(request);
          } catch (RuntimeException e) {
            LOG.warn("onPause callback {} failed for {}", p, request.id(), e);
          }
        }
      };
    }
  }

  /** The advisor, on every auto-configured {@code ChatClient.Builder}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.ai.chat.client.ChatClient")
  static class ChatClientConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SafeRunAdvisor safeRunAdvisor(SafeRunSpringAi saferun,
        ObjectProvider<SafeRunContextResolver> resolvers, SafeRunProperties properties) {
      List<SafeRunContextResolver> list = resolvers.orderedStream().toList();
      SafeRunContextResolver resolver = request -> {
        CallContext c = CallContext.empty();
        for (SafeRunContextResolver r : list) {
          CallContext more = r.resolve(request);
          if (more != null) {
            c = more.merge(c);
          }
        }
        return c;
      };
      return new SafeRunAdvisor(saferun, resolver, properties.getAdvisor().getOrder());
    }

    @Bean
    @ConditionalOnMissingBean(name = "safeRunChatClientBuilderCustomizer")
    ChatClientBuilderCustomizer safeRunChatClientBuilderCustomizer(SafeRunAdvisor advisor) {
      return builder -> builder.defaultAdvisors(advisor);
    }
  }

  /** Decision metrics, when Micrometer is on the class path. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
  static class MetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SafeRunMetrics safeRunMetrics(ObjectProvider<MeterRegistry> registry) {
      return new SafeRunMetrics(() -> registry.getIfUnique());
    }
  }

  /** The {@code saferun} actuator endpoint. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {
      "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
      "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint"})
  static class EndpointConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    SafeRunEndpoint safeRunEndpoint(SafeRun safeRun, ObjectProvider<SafeRunPolicies> policies,
        SafeRunProperties properties) {
      return new SafeRunEndpoint(safeRun, policies.getIfAvailable(),
          properties.getMode().name().toLowerCase(Locale.ROOT));
    }
  }
}
