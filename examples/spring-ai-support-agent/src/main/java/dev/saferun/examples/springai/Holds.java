package dev.saferun.examples.springai;

import dev.saferun.approval.ApprovalRequest;
import dev.saferun.approval.OnPause;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * Where held calls are announced: an {@link OnPause} bean, which the auto-configuration hands
 * SafeRun. A real application would page a supervisor here (or set
 * {@code saferun.approvals.slack.webhook-url}); the example's supervisor just waits for it.
 *
 * <p>Thread-safe.
 */
@Component
public class Holds implements OnPause {
  private final BlockingQueue<ApprovalRequest> requests = new LinkedBlockingQueue<>();

  @Override
  public void onPause(ApprovalRequest request) {
    requests.add(request);
  }

  /** The next held call, waiting up to {@code seconds} for it; {@code null} if none came. */
  public ApprovalRequest next(long seconds) throws InterruptedException {
    return requests.poll(seconds, TimeUnit.SECONDS);
  }
}
