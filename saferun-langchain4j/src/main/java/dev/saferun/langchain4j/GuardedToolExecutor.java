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
        ran[0] = r;
        // SafeRun applies the policy's result controls and secret masking to this text.
        return r == null ? "" : text(r);
      });
    } catch (RuntimeException | Error x) {
      // The tool threw: SafeRun refunded its counters; LangChain4j's error handlers take over.
      throw x;
    } catch (Exception x) {
      throw new ToolExecutionException(x);
    }
    if (!e.ran()) {
      return refusal(e);
    }
    ToolExecutionResult r = ran[0];
    if (r == null) {
      return null;
    }
    if (r.isError()) {
      // An error result, not an exception: refund its counters and count it as a failure.
      safeRun.reportToolError(e, e.output());
    }
    return result(e, r);
  }

  /** The denial or approval-required text, in place of the tool's result. */
  private static ToolExecutionResult refusal(Execution e) {
    Decision d = e.decision();
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put(SafeRunLangChain4j.ATTRIBUTE_OUTCOME,
        d.outcome().name().toLowerCase(Locale.ROOT));
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
   * The tool's result as the model should see it: its text after SafeRun's result controls and
   * secret masking, and, for a call a human approved with edited arguments, preceded by a line
   * saying so (LangChain4j's memory still holds the model's original arguments). Unchanged when
   * SafeRun changed nothing.
   */
  private static ToolExecutionResult result(Execution e, ToolExecutionResult r) {
    List<Content> contents = r.resultContents();
    String raw = text(r);
    String shown = e.text();
    if (e.approval() == null && shown.equals(raw)) {
      return r;
    }
    Map<String, Object> attributes = new LinkedHashMap<>(r.attributes());
    if (e.approval() != null) {
      attributes.put(SafeRunLangChain4j.ATTRIBUTE_OUTCOME, "allow");
      attributes.put(SafeRunLangChain4j.ATTRIBUTE_APPROVAL, e.approval().id());
      putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_APPROVER, e.approval().approver());
      if (e.argumentsEdited()) {
        putIfPresent(attributes, SafeRunLangChain4j.ATTRIBUTE_ARGUMENTS, e.redactedArguments());
      }
    }
    ToolExecutionResult.Builder b = r.toBuilder().attributes(attributes)
        .resultTextSupplier(null).resultContents(null).resultText(null);
    if (shown.equals(raw) && !contents.isEmpty()) {
      return b.resultContents(contents).build();
    }
    List<Content> media = contents.stream().filter(c -> !(c instanceof TextContent)).toList();
    if (media.isEmpty()) {
      return b.resultText(shown).build();
    }
    List<Content> replaced = new ArrayList<>(media.size() + 1);
    replaced.add(TextContent.from(shown));
    replaced.addAll(media);
    return b.resultContents(replaced).build();
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
}
