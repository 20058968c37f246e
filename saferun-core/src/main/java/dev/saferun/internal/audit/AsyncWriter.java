package dev.saferun.internal.audit;

import dev.saferun.CallContext;
import dev.saferun.Clock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink.FailurePolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A bounded queue in front of a {@link Target}, drained by one daemon thread in batches. The
 * calling thread never waits for the disk: {@link #record} only offers to the queue, and a full
 * queue (or a failed writer) is handled by the failure policy. {@link #flush} waits for what was
 * accepted before it; {@link #close} drains the queue and closes the target. Thread-safe.
 */
public final class AsyncWriter extends SinkWriter {
  /** Marks the end of the queue; compared by identity. */
  private static final AuditEvent CLOSE = new AuditEvent(Instant.EPOCH, -1,
      AuditEvent.Type.EXECUTED, "<close>", CallContext.empty(), null, null, null, null, null,
      null, null, 0, null, null, 0, null);

  private final ArrayBlockingQueue<AuditEvent> queue;
  private final int capacity;
  private final int maxBatch;
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private final AtomicLong accepted = new AtomicLong();
  private final Object progress = new Object();
  private final Thread thread;
  private volatile boolean closed;
  private volatile Throwable failure;
  private long done;
  private boolean finished;

  public AsyncWriter(Target target, int capacity, int maxBatch, FailurePolicy policy,
      Clock clock, String name) {
    super(target, policy, clock, name);
    this.capacity = capacity;
    this.maxBatch = maxBatch;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = new Thread(this::run, "saferun-audit-writer " + name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void record(AuditEvent event) {
    gate.readLock().lock();
    try {
      if (closed) {
        lost(event, "the audit sink " + name + " is closed", null);
        return;
      }
      Throwable f = failure;
      if (f != null) {
        lost(event, "the audit writer of " + name + " failed earlier: " + f, f);
        return;
      }
      if (queue.offer(event)) {
        accepted.incrementAndGet();
        return;
      }
      lost(event, "audit queue of " + name + " is full (" + capacity
          + " events): the audit writer is behind", null);
    } finally {
      gate.readLock().unlock();
    }
  }

  private void run() {
    List<AuditEvent> batch = new ArrayList<>(maxBatch);
    boolean stop = false;
    while (!stop) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        continue; // only close() ends this thread
      }
      queue.drainTo(batch, maxBatch - 1);
      int last = batch.size() - 1;
      if (batch.get(last) == CLOSE) {
        batch.remove(last);
        stop = true;
      }
      if (failure == null) {
        try {
          if (!batch.isEmpty()) {
            target.append(batch);
          }
          writeGap();
          target.batchDone();
        } catch (IOException | RuntimeException | Error e) {
          failure = e;
          LOG.error("Audit writer of {} failed; {} event(s) of this batch and {} queued are LOST;"
              + " later events are refused (FAIL_CLOSED) or dropped (LOG_AND_CONTINUE) until the"
              + " sink is recreated", name, batch.size(), queue.size(), e);
        }
      }
      synchronized (progress) {
        done += batch.size();
        progress.notifyAll();
      }
      batch.clear();
    }
    try {
      if (failure == null) {
        writeGap();
      }
      target.close();
    } catch (IOException | RuntimeException e) {
      if (failure == null) {
        failure = e;
      }
      LOG.error("Closing the audit log of {} failed", name, e);
    } finally {
      synchronized (progress) {
        finished = true;
        progress.notifyAll();
      }
    }
  }

  @Override
  public void flush() throws IOException {
    long goal = accepted.get();
    try {
      synchronized (progress) {
        while (done < goal && !finished && failure == null) {
          progress.wait();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while flushing the audit log of " + name);
    }
    Throwable f = failure;
    if (f != null) {
      throw new IOException("the audit writer of " + name + " failed", f);
    }
    if (!finished) {
      writeGap();
      target.sync();
    }
  }

  @Override
  public void close() throws IOException {
    gate.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      gate.writeLock().unlock();
    }
    try {
      queue.put(CLOSE); // waits for room: the writer thread is draining
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while closing the audit log of " + name
          + "; the writer thread goes on draining the queue");
    }
    Throwable f = failure;
    if (f != null) {
      throw new IOException("the audit writer of " + name + " failed; events were lost", f);
    }
  }

  /** Events waiting in the queue (for tests and metrics). */
  public int queued() {
    return queue.size();
  }
}
