package dev.saferun.approval;

/**
 * The host's callback for a held call: notify a human, store the request, page someone.
 *
 * <p><b>Contract.</b> Called once per new hold, on the thread that made the tool call, after the
 * decision is made; SafeRun does not wait for any work it starts. It should return quickly: hand
 * slow work (HTTP, email) to an executor. If it throws, the exception is logged and contained:
 * the hold still stands and the call is not forwarded. Implementations must be thread-safe, since
 * holds can happen on many threads at once.
 */
@FunctionalInterface
public interface OnPause {

  /** Does nothing. */
  OnPause NONE = request -> { };

  /** Receives a new approval request. */
  void onPause(ApprovalRequest request);
}
