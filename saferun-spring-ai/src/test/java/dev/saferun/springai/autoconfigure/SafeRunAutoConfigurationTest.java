package dev.saferun.springai.autoconfigure;

import static dev.saferun.springai.ScriptedChatModel.call;
import static org.assertj.core.api.Assertions.assertThat;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.Decision;
import dev.saferun.PolicyConfigException;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import dev.saferun.approval.ApprovalRequest;
import dev.saferun.approval.OnPause;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink;
import dev.saferun.policy.Policy;
import dev.saferun.policy.PolicySet;
import dev.saferun.springai.OnHold;
import dev.saferun.springai.SafeRunAdvisor;
import dev.saferun.springai.SafeRunContextResolver;
import dev.saferun.springai.SafeRunMetrics;
import dev.saferun.springai.SafeRunSpringAi;
import dev.saferun.springai.SafeRunToolCallback;
import dev.saferun.springai.SafeRunToolCallingManager;
import dev.saferun.springai.SafeRunToolContext;
import dev.saferun.springai.ScriptedChatModel;
import dev.saferun.springai.SupportTools;
import dev.saferun.springai.actuate.SafeRunEndpoint;
import dev.saferun.test.FakeClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.model.chat.client.autoconfigure.ChatClientAutoConfiguration;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.ai.tool.function.FunctionToolCallback;
import org.springframework.ai.tool.observation.ToolCallingObservationContext;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The Spring Boot auto-configuration, wired with Spring AI's own auto-configurations. */
@SuppressWarnings("unchecked")
class SafeRunAutoConfigurationTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(ToolCallingAutoConfiguration.class,
          ChatClientAutoConfiguration.class, SafeRunAutoConfiguration.class))
      .withPropertyValues("saferun.policies=classpath:policies/support.yaml",
          "saferun.reload.enabled=false")
      .withUserConfiguration(App.class);

  /** What an application declares: a model, tools, a clock and an audit sink. */
  @Configuration(proxyBeanMethods = false)
  static class App {
    final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    final BlockingQueue<ApprovalRequest> holds = new LinkedBlockingQueue<>();

    @Bean
    ScriptedChatModel chatModel() {
      return new ScriptedChatModel();
    }

    @Bean
    SupportTools supportTools() {
      return new SupportTools();
    }

    @Bean
    ToolCallback sendEmailTool() {
      return FunctionToolCallback.builder("send_email", (Map<String, Object> in) -> "sent")
          .description("Email someone").inputType(Map.class).build();
    }

    @Bean
    FunctionToolCallback<Map<String, Object>, String> getCustomerTool() {
      return FunctionToolCallback.builder("get_customer", (Map<String, Object> in) -> "cus_1")
          .description("Look up").inputType(Map.class).build();
    }

    @Bean
    ToolCallbackProvider noteTools() {
      return ToolCallbackProvider.from(FunctionToolCallback.builder("add_note",
          (Map<String, Object> in) -> "noted").description("Note").inputType(Map.class).build());
    }

    @Bean
    FakeClock clock() {
      return new FakeClock();
    }

    @Bean
    AuditSink recordingSink() {
      return events::add;
    }

    @Bean
    OnPause holds() {
      return holds::add;
    }
  }

  @Test
  void wiresSafeRunIntoSpringAi() {
    runner.run(ctx -> {
      assertThat(ctx).hasNotFailed();
      assertThat(ctx).hasSingleBean(SafeRun.class).hasSingleBean(SafeRunSpringAi.class)
          .hasSingleBean(SafeRunAdvisor.class).hasSingleBean(SafeRunPolicies.class)
          .hasSingleBean(SafeRunMetrics.class);
      assertThat(ctx.getBean(ToolCallingManager.class))
          .isInstanceOf(SafeRunToolCallingManager.class);
      assertThat(ctx.getBean(SafeRun.class).clock()).isSameAs(ctx.getBean(FakeClock.class));
      assertThat(ctx.getBean(SafeRun.class).policies().policies()).extracting(Policy::name)
          .containsExactly("support");
      // Declared as the interface: replaced. Declared as a concrete class: left alone (and
      // wrapped per request instead), so injection by that class still works.
      assertThat(ctx.getBean("sendEmailTool")).isInstanceOf(SafeRunToolCallback.class);
      assertThat(ctx.getBean("getCustomerTool")).isInstanceOf(FunctionToolCallback.class);
      assertThat(ctx.getBean("noteTools", ToolCallbackProvider.class).getToolCallbacks())
          .singleElement().isInstanceOf(SafeRunToolCallback.class);
    });
  }

  @Test
  void theAutoConfiguredChatClientBuilderHidesAndEnforces() {
    runner.run(ctx -> {
      ScriptedChatModel model = ctx.getBean(ScriptedChatModel.class);
      SupportTools tools = ctx.getBean(SupportTools.class);
      model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"c\",\"amount\":900}"),
              call("c2", "delete_customer", "{\"id\":\"c\"}"))
          .thenText("done");

      String answer = ctx.getBean(ChatClient.Builder.class).build().prompt("go").tools(tools)
          .toolContext(SafeRunToolContext.of("user", "u1")).call().content();

      assertThat(answer).isEqualTo("done");
      assertThat(model.toolsOffered(0)).doesNotContain("delete_customer").contains("create_refund");
      assertThat(model.toolResults(1)).containsEntry("c1",
          "[SAFERUN POLICY DENIED] A single refund cannot exceed $500.00");
      assertThat(model.toolResults(1)).containsEntry("c2",
          "[SAFERUN POLICY DENIED] Tool \"delete_customer\" is hidden by policy");
      assertThat(tools.ran).isEmpty();
      assertThat(ctx.getBean(App.class).events).filteredOn(e -> e.type() == AuditEvent.Type.DENIED)
          .hasSize(2);
    });
  }

  @Test
  void propertiesSetTheDefaultContextAndHoldBehaviour() {
    runner.withPropertyValues("saferun.context.agent=support", "saferun.context.environment=prod",
        "saferun.approvals.on-hold=exception").run(ctx -> {
          SafeRunSpringAi saferun = ctx.getBean(SafeRunSpringAi.class);
          assertThat(saferun.defaultContext()).isEqualTo(
              CallContext.of("agent", "support", "environment", "prod"));
          assertThat(saferun.onHold()).isEqualTo(OnHold.EXCEPTION);
        });
  }

  @Test
  void contextResolversAddIdentityOnTheRequestThread() {
    runner.withBean(SafeRunContextResolver.class, () -> request -> CallContext.of("user", "alice"))
        .run(ctx -> {
          ScriptedChatModel model = ctx.getBean(ScriptedChatModel.class);
          model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"c\",\"amount\":10}"))
              .thenText("ok");

          ctx.getBean(ChatClient.Builder.class).build().prompt("go")
              .tools(ctx.getBean(SupportTools.class)).call().content();

          assertThat(ctx.getBean(App.class).events).first()
              .extracting(e -> e.context().get("user")).isEqualTo("alice");
        });
  }

  @Test
  void shadowModeLoadsEveryPolicyAsShadow() {
    runner.withPropertyValues("saferun.mode=shadow").run(ctx -> {
      SafeRun safeRun = ctx.getBean(SafeRun.class);
      Decision d = safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\":900}"));

      assertThat(d.isAllowed()).isTrue();
      assertThat(d.shadow().outcome()).isEqualTo(Decision.Outcome.DENY);
      assertThat(d.shadow().rule()).isEqualTo("max single refund");
      assertThat(safeRun.visibleTools(List.of("delete_customer"), CallContext.empty()))
          .containsExactly("delete_customer");
    });
  }

  @Test
  void theApplicationsOwnBeansWin() {
    SafeRun own = SafeRun.builder().policies(Policy.builder("own").defaultDecision("allow")
        .build()).build();
    runner.withBean(SafeRun.class, () -> own).run(ctx -> {
      assertThat(ctx).hasNotFailed();
      assertThat(ctx.getBean(SafeRun.class)).isSameAs(own);
      assertThat(ctx).doesNotHaveBean(SafeRunPolicies.class);
      assertThat(ctx.getBean(SafeRunSpringAi.class).safeRun()).isSameAs(own);
    });
    SafeRunAdvisor advisor = new SafeRunAdvisor(
        SafeRunSpringAi.of(own), r -> CallContext.empty(), 7);
    runner.withBean(SafeRunAdvisor.class, () -> advisor).run(ctx ->
        assertThat(ctx.getBean(SafeRunAdvisor.class)).isSameAs(advisor));
  }

  @Test
  void disabledMeansNothingIsWrapped() {
    runner.withPropertyValues("saferun.enabled=false").run(ctx -> {
      assertThat(ctx).doesNotHaveBean(SafeRun.class).doesNotHaveBean(SafeRunAdvisor.class);
      assertThat(ctx.getBean(ToolCallingManager.class))
          .isNotInstanceOf(SafeRunToolCallingManager.class);
      assertThat(ctx.getBean("sendEmailTool")).isNotInstanceOf(SafeRunToolCallback.class);
    });
  }

  @Test
  void aMissingPolicyFileStopsTheApplicationWithTheLocation() {
    runner.withPropertyValues("saferun.policies=classpath:nope.yaml").run(ctx -> {
      assertThat(ctx).hasFailed();
      assertThat(ctx.getStartupFailure()).rootCause().isInstanceOf(PolicyConfigException.class)
          .hasMessageContaining("saferun.policies location 'classpath:nope.yaml' matches no"
              + " readable resource");
    });
  }

  @Test
  void anInvalidPolicyStopsTheApplicationWithFileLineAndColumn() {
    runner.withPropertyValues("saferun.policies=classpath:policies/broken.yaml").run(ctx -> {
      assertThat(ctx).hasFailed();
      assertThat(ctx.getStartupFailure()).rootCause()
          .hasMessageContaining("policies/broken.yaml:5:5: unknown key 'rule'")
          .hasMessageContaining("did you mean 'rules'?");
    });
  }

  @Test
  void decisionsAreCountedAndTimedAndTheToolObservationIsTagged() {
    ObservationRegistry observations = ObservationRegistry.create();
    List<ToolCallingObservationContext> stopped = new CopyOnWriteArrayList<>();
    observations.observationConfig().observationHandler(new ObservationHandler<>() {
      @Override
      public boolean supportsContext(Observation.Context context) {
        return context instanceof ToolCallingObservationContext;
      }

      @Override
      public void onStop(Observation.Context context) {
        stopped.add((ToolCallingObservationContext) context);
      }
    });
    runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean(ObservationRegistry.class, () -> observations)
        .run(ctx -> {
          ScriptedChatModel model = ctx.getBean(ScriptedChatModel.class);
          model.thenToolCalls(call("c1", "create_refund", "{\"customer\":\"c\",\"amount\":900}"),
                  call("c2", "create_refund", "{\"customer\":\"c\",\"amount\":40}"))
              .thenText("ok");

          ctx.getBean(ChatClient.Builder.class).build().prompt("go")
              .tools(ctx.getBean(SupportTools.class))
              .toolContext(SafeRunToolContext.of("user", "u1")).call().content();

          MeterRegistry meters = ctx.getBean(MeterRegistry.class);
          assertThat(meters.get(SafeRunMetrics.DECISIONS).tag("outcome", "deny")
              .tag("tool", "create_refund").tag("rule", "max single refund")
              .tag("policy", "support").counter().count()).isEqualTo(1.0);
          assertThat(meters.get(SafeRunMetrics.DECISIONS).tag("outcome", "allow")
              .tag("rule", "none").counter().count()).isEqualTo(1.0);
          assertThat(meters.get(SafeRunMetrics.LATENCY).tag("tool", "create_refund").timers())
              .extracting(t -> t.count()).containsExactlyInAnyOrder(1L, 1L);
          assertThat(meters.get(SafeRunMetrics.EXECUTIONS).tag("result", "executed").counter()
              .count()).isEqualTo(1.0);
          assertThat(stopped).extracting(
                  c -> c.getLowCardinalityKeyValue(SafeRunSpringAi.DECISION_KEY).getValue())
              .containsExactly("deny", "allow");
        });
  }

  @Test
  void theActuatorEndpointListsPoliciesAndPendingApprovalsAndDecidesThem() {
    runner.withPropertyValues("management.endpoints.web.exposure.include=saferun",
        "management.endpoint.saferun.access=UNRESTRICTED").run(ctx -> {
          SafeRunEndpoint endpoint = ctx.getBean(SafeRunEndpoint.class);
          SafeRun safeRun = ctx.getBean(SafeRun.class);
          Map<String, Object> summary = endpoint.saferun();
          assertThat(summary).containsEntry("mode", "enforce")
              .containsEntry("policySetVersion", safeRun.policies().version());
          assertThat((List<?>) summary.get("policies")).singleElement().satisfies(p ->
              assertThat((Map<String, Object>) p).containsEntry("name", "support")
                  .containsEntry("version", safeRun.policies().policies().get(0).version()));

          Decision held = safeRun.evaluate(ToolCall.of("create_refund",
              "{\"customer\":\"c\",\"amount\":150}", CallContext.of("user", "u1")));
          String id = held.approval().id();
          assertThat((List<?>) endpoint.saferun().get("pendingApprovals")).singleElement()
              .satisfies(a -> assertThat((Map<String, Object>) a).containsEntry("id", id)
                  .containsEntry("tool", "create_refund").containsEntry("state", "pending"));

          WebEndpointResponse<Map<String, Object>> approved = endpoint.decide(id, "approve",
              "{\"customer\":\"c\",\"amount\":120}", null, "alice", SecurityContext.NONE);
          assertThat(approved.getStatus()).isEqualTo(200);
          assertThat(approved.getBody()).containsEntry("state", "approved")
              .containsEntry("approver", "alice").containsEntry("edited", true);
          assertThat((List<?>) endpoint.saferun().get("pendingApprovals")).isEmpty();

          assertThat(endpoint.decide(id, "deny", null, "too late", null, SecurityContext.NONE)
              .getStatus()).isEqualTo(409);
          assertThat(endpoint.approval("apr_unknown").getStatus()).isEqualTo(404);
          assertThat(endpoint.decide(id, "maybe", null, null, null, SecurityContext.NONE)
              .getStatus()).isEqualTo(400);
        });
  }

  @Test
  void theAuthenticatedPrincipalIsTheApproverWhateverTheBodySays() {
    runner.withPropertyValues("management.endpoints.web.exposure.include=saferun",
        "management.endpoint.saferun.access=UNRESTRICTED").run(ctx -> {
          SafeRun safeRun = ctx.getBean(SafeRun.class);
          Decision held = safeRun.evaluate(ToolCall.of("create_refund", "{\"amount\":150}"));
          SecurityContext alice = new SecurityContext() {
            @Override
            public java.security.Principal getPrincipal() {
              return () -> "alice";
            }

            @Override
            public boolean isUserInRole(String role) {
              return true;
            }
          };

          WebEndpointResponse<Map<String, Object>> r = ctx.getBean(SafeRunEndpoint.class)
              .decide(held.approval().id(), "deny", null, "no", "mallory", alice);

          assertThat(r.getBody()).containsEntry("state", "denied").containsEntry("approver", "alice")
              .containsEntry("reason", "no");
        });
  }

  @Test
  void theEndpointIsReadOnlyByDefault() {
    runner.withPropertyValues("management.endpoints.web.exposure.include=saferun")
        .run(ctx -> assertThat(ctx).hasSingleBean(SafeRunEndpoint.class));
    assertThat(SafeRunEndpoint.class.getAnnotation(
            org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint.class)
        .defaultAccess()).isEqualTo(org.springframework.boot.actuate.endpoint.Access.READ_ONLY);
  }

  @Test
  void anApplicationClockIsOptional() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ToolCallingAutoConfiguration.class,
            SafeRunAutoConfiguration.class))
        .withPropertyValues("saferun.policies=classpath:policies/support.yaml",
            "saferun.reload.enabled=false")
        .withBean(ChatModel.class, ScriptedChatModel::new)
        .run(ctx -> {
          assertThat(ctx).hasNotFailed();
          assertThat(ctx.getBean(SafeRun.class).clock()).isSameAs(Clock.system());
          assertThat(ctx.getBean(SafeRun.class).policies()).isInstanceOf(PolicySet.class);
        });
  }
}
