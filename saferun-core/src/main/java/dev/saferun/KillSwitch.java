package dev.saferun;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The incident-response stop: while engaged, every tool call (or every call of the listed tools
 * or agents) is denied at once, before any policy runs. It is separate from the policies, so it
 * survives reloads; engaging and releasing are audited with who did it and why. Obtained from
 * {@code SafeRun.killSwitch()}.
 *
 * <p>Thread-safe: the state is one immutable value swapped atomically.
 */
public final class KillSwitch {

  /**
   * The switch's state.
   *
   * @param engaged whether calls are being stopped
   * @param tools the tools stopped; empty with empty {@code agents} means every tool
   * @param agents the agents (context attribute {@code agent}) stopped
   * @param reason why
   * @param by who engaged it
   * @param since when
   */
  public record State(boolean engaged, Set<String> tools, Set<String> agents, String reason,
      String by, Instant since) {
    public static final State RELEASED = new State(false, Set.of(), Set.of(), null, null, null);

    public State {
      tools = Set.copyOf(tools);
      agents = Set.copyOf(agents);
    }

    /** Whether this state stops a call. */
    public boolean stops(ToolCall call) {
      if (!engaged) {
        return false;
      }
      if (tools.isEmpty() && agents.isEmpty()) {
        return true;
      }
      String agent = call.context().get(CallContext.AGENT);
      return tools.contains(call.tool()) || (agent != null && agents.contains(agent));
    }
  }

  private volatile State state = State.RELEASED;
  private final Clock clock;
  private final Consumer<State> onChange;

  KillSwitch(Clock clock, Consumer<State> onChange) {
    this.clock = clock;
    this.onChange = onChange;
  }

  /** Stops every tool call. */
  public void engageAll(String reason, String by) {
    engage(Set.of(), Set.of(), reason, by);
  }

  /** Stops the calls of these tools and of these agents (either may be empty, not both). */
  public void engage(Set<String> tools, Set<String> agents, String reason, String by) {
    Objects.requireNonNull(tools, "tools");
    Objects.requireNonNull(agents, "agents");
    if (by == null || by.isBlank()) {
      throw new IllegalArgumentException("engaging the kill switch needs who does it ('by')");
    }
    set(new State(true, tools, agents, reason == null ? "" : reason, by, clock.instant()));
  }

  /** Lets calls through again. */
  public void release(String by) {
    if (by == null || by.isBlank()) {
      throw new IllegalArgumentException("releasing the kill switch needs who does it ('by')");
    }
    set(new State(false, Set.of(), Set.of(), null, by, clock.instant()));
  }

  /** The current state. */
  public State state() {
    return state;
  }

  /** Replaces the state, e.g. from a shared state file; audited like engage/release. */
  public void set(State newState) {
    Objects.requireNonNull(newState, "state");
    this.state = newState;
    onChange.accept(newState);
  }

  /**
   * Reads a kill-switch state file (see {@code SafeRun.Builder.killSwitchFile}); released when
   * the file does not exist.
   */
  public static State readState(java.nio.file.Path file) {
    return dev.saferun.internal.controls.KillSwitchFile.read(file);
  }

  /** Writes a kill-switch state file atomically; running SafeRun instances watching it follow. */
  public static void writeState(java.nio.file.Path file, State state) {
    dev.saferun.internal.controls.KillSwitchFile.write(file, state);
  }

  /** The denial message for a stopped call, or {@code null}. */
  String check(ToolCall call) {
    State s = state;
    if (!s.stops(call)) {
      return null;
    }
    return "Kill switch engaged by " + s.by() + (s.reason().isEmpty() ? "" : ": " + s.reason());
  }
}
