package dev.saferun.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.exception.ToolExecutionException;
import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.service.tool.ToolExecutionResult;
import dev.langchain4j.service.tool.ToolExecutor;
import dev.saferun.Decision;
import dev.saferun.Execution;
import dev.saferun.SafeRun;
import dev.saferun.ToolCall;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A LangChain4j {@link ToolExecutor} that asks SafeRun before running its delegate. Stateless
 * apart from its configuration, so one instance may serve concurrent calls.
 */
final class GuardedToolExecutor implements ToolExecutor {
  private final SafeRunLangChain4j owner;
  private final ToolExecutor delegate;

  GuardedToolExecutor(SafeRunLangChain4j owner, ToolExecutor delegate) {
    this.owner = owner;
    this.delegate = Objects.requireNonNull(delegate, "tool");
  }

  SafeRunLangChain4j owner() {
    return owner;
  }

  @Override
  public String execute(ToolExecutionRequest request, Object memoryId) {
    InvocationContext context = InvocationContext.builder().chatMemoryId(memoryId).build();
    return text(executeWithContext(request, context));
  }

  @Override
  public ToolExecutionResult executeWithContext(ToolExecutionRequest request,
      InvocationContext context) {
    owner.forgetInvocation();
    SafeRun safeRun = owner.safeRun();
    ToolCall call = new ToolCall(request.name(), request.arguments(), owner.context(context));
    ToolExecutionResult[] ran = new ToolExecutionResult[1];
    Execution e;
    try {
      e = safeRun.run(call, approved -> {
        // Forward exactly what SafeRun evaluated: after an approval these are the final
        // (possibly edited) arguments.
        ToolExecutionRequest forwarded = Objects.equals(approved.arguments(), request.arguments())
            ? request : request.toBuilder().arguments(approved.arguments()).build();
        ToolExecutionResult r = delegate.executeWithContext(forwarded, context);
        if (r != null && r.isError()) {
          throw new ErrorResult(r);
        }
        ran[0] = r;
        return "";
      });
    } catch (ErrorResult err) {
      // SafeRun refunded the call's counters and audited the failure (SPEC §4.2).
      return err.result;
    } catch (RuntimeException | Error x) {
      throw x;
    } catch (Exception x) {
      throw new ToolExecutionException(x);
    }
    if (!e.ran()) {
      return refusal(e);
    }
    ToolExecutionResult r = ran[0];
    if (e.approval() == null || r == null) {
      return r;
    }
    return approved(e, r);
  }

  /** The denial or approval-required text, in place of the tool's result. */
  private static ToolExecutionResult refusal(Execution e) {
    Decision d = e.decision();
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put(SafeRunLangChain4j.ATTRIBUTE_OUTCOME, d.outcome().name().toLowerCase(Locale.ROOT));
    putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_POLICY, d.policy());
    putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_RULE, d.rule());
    if (d.approval() != null) {
      attributes.put(SafeRunLangChain4j.ATTRIBUTE_APPROVAL, d.approval().id());
    }
    return ToolExecutionResult.builder()
        // A held call has not failed: it waits for a human. A denied one is an error result.
        .isError(d.isDenied())
        .resultText(e.text())
        .attributes(attributes)
        .build();
  }

  /**
   * The tool's result for a call a human approved. LangChain4j keeps the model's original
   * arguments in memory, so when the approver edited them the result says so in its text.
   */
  private static ToolExecutionResult approved(Execution e, ToolExecutionResult r) {
    Map<String, Object> attributes = new LinkedHashMap<>(r.attributes());
    attributes.put(SafeRunLangChain4j.ATTRIBUTE_OUTCOME, "allow");
    attributes.put(SafeRunLangChain4j.ATTRIBUTE_APPROVAL, e.approval().id());
    putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_APPROVER, e.approval().approver());
    ToolExecutionResult.Builder b = r.toBuilder().attributes(attributes);
    if (!e.argumentsEdited()) {
      return b.build();
    }
    putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_ARGUMENTS, e.redactedArguments());
    List<Content> contents = r.resultContents();
    if (contents.size() == 1 && contents.get(0) instanceof TextContent) {
      String text = ((TextContent) contents.get(0)).text();
      return b.resultTextSupplier(null).resultContents(null)
          .resultText(withOutput(e, text).text()).attributes(attributes).build();
    }
    String note = withOutput(e, "").text().stripTrailing();
    List<Content> noted = new ArrayList<>(contents.size() + 1);
    noted.add(TextContent.from(note));
    noted.addAll(contents);
    return b.resultTextSupplier(null).resultText(null).resultContents(noted)
        .attributes(attributes).build();
  }

  private static Execution withOutput(Execution e, String output) {
    return new Execution(e.decision(), e.call(), output, e.approval(), e.redactedArguments());
  }

  private static void putIfPresent(Map<String, Object> m, String key, String value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  /** The text of a result, for the legacy {@code execute} (which returns a string). */
  static String text(ToolExecutionResult r) {
    if (r == null) {
      return null;
    }
    List<Content> contents = r.resultContents();
    if (contents.size() == 1 && contents.get(0) instanceof TextContent) {
      return ((TextContent) contents.get(0)).text();
    }
    return contents.stream().filter(TextContent.class::isInstance)
        .map(c -> ((TextContent) c).text()).collect(Collectors.joining("\n"));
  }

  /** Carries a tool's error result through SafeRun so that its counters are refunded. */
  private static final class ErrorResult extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient ToolExecutionResult result;

    ErrorResult(ToolExecutionResult result) {
      super("tool returned an error result", null, false, false);
      this.result = result;
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}
