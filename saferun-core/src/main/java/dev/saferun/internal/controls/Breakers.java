package dev.saferun.internal.controls;

import dev.saferun.policy.ToolOptions;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Error breakers per tool (SafeRun-wide, surviving reloads). Closed: failures are counted in a
 * rolling window; at the threshold the breaker opens. Open: calls are denied until the cooldown
 * ends. Half-open: one probe call is let through (another one after a further cooldown if the
 * probe never reports); its success closes the breaker, its failure opens it again. Thread-safe
 * (each breaker is guarded by its own monitor).
 */
public final class Breakers {

  /** Receives state changes, for the audit log. */
  public interface Listener {
    void changed(String tool, boolean open, String message);
  }

  private final Map<String, State> states = new ConcurrentHashMap<>();
  private final Listener listener;

  public Breakers(Listener listener) {
    this.listener = listener;
  }

  private static final class State {
    final ArrayDeque<Long> failures = new ArrayDeque<>();
    ToolOptions.Breaker config;
    boolean open;
    long openedAt;
    long probeAt = -1;
    /** Set when a probe's success closed the breaker; an error result reported next reopens it. */
    boolean closedByProbe;
  }

  /**
   * Whether a call to {@code tool} may proceed now; {@code null} if so, else the denial message.
   * In half-open state this hands out the single probe.
   */
  public String check(String tool, ToolOptions.Breaker config, long now) {
    State s = states.computeIfAbsent(tool, k -> new State());
    synchronized (s) {
      s.config = config;
      if (!s.open) {
        return null;
      }
      long retryAt = s.openedAt + config.cooldown().toMillis();
      if (now < retryAt) {
        return "Tool \"" + tool + "\" is failing: calls are paused until "
            + Instant.ofEpochMilli(retryAt) + " (" + config.failures() + " failures within "
            + config.window().toSeconds() + "s)";
      }
      if (s.probeAt >= 0 && now < s.probeAt + config.cooldown().toMillis()) {
        return "Tool \"" + tool + "\" is failing: a trial call is in progress; try again after "
            + Instant.ofEpochMilli(s.probeAt + config.cooldown().toMillis());
      }
      s.probeAt = now;
      return null;
    }
  }

  /** Reports how an allowed call of {@code tool} ended. */
  public void record(String tool, boolean ok, long now) {
    State s = states.get(tool);
    if (s == null) {
      return;
    }
    String change = null;
    boolean nowOpen = false;
    synchronized (s) {
      ToolOptions.Breaker c = s.config;
      if (c == null) {
        return;
      }
      if (ok) {
        if (s.open && s.probeAt >= 0) {
          s.open = false;
          s.probeAt = -1;
          s.failures.clear();
          s.closedByProbe = true;
          change = "Breaker of tool \"" + tool + "\" closed: a trial call succeeded";
        } else if (!s.open) {
          s.closedByProbe = false;
          // successes do not erase failures: the window does
          prune(s, c, now);
        }
      } else {
        if (s.open) {
          if (s.probeAt >= 0) {
            s.openedAt = now;
            s.probeAt = -1;
            change = "Breaker of tool \"" + tool + "\" opened again: the trial call failed";
            nowOpen = true;
          }
        } else if (s.closedByProbe) {
          // The "success" that closed it was the probe; its result turned out to be an error.
          s.closedByProbe = false;
          s.open = true;
          s.openedAt = now;
          s.probeAt = -1;
          change = "Breaker of tool \"" + tool + "\" opened again: the trial call failed";
          nowOpen = true;
        } else {
          s.failures.addLast(now);
          prune(s, c, now);
          if (s.failures.size() >= c.failures()) {
            s.open = true;
            s.openedAt = now;
            s.probeAt = -1;
            change = "Breaker of tool \"" + tool + "\" opened: " + s.failures.size()
                + " failures within " + c.window().toSeconds() + "s";
            nowOpen = true;
          }
        }
      }
    }
    if (change != null) {
      listener.changed(tool, nowOpen, change);
    }
  }

  private static void prune(State s, ToolOptions.Breaker c, long now) {
    long from = now - c.window().toMillis();
    while (!s.failures.isEmpty() && s.failures.peekFirst() <= from) {
      s.failures.removeFirst();
    }
  }

  /** Whether the breaker of a tool is open (for status endpoints and tests). */
  public boolean isOpen(String tool) {
    State s = states.get(tool);
    if (s == null) {
      return false;
    }
    synchronized (s) {
      return s.open;
    }
  }
}
