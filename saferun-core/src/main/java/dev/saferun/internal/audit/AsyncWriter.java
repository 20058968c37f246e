package dev.saferun.internal.audit;

import dev.saferun.Clock;
import dev.saferun.audit.AuditEvent;
import dev.saferun.audit.AuditSink.FailurePolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded queue in front of a {@link Target}, drained by one daemon thread in batches. The
 * calling thread never touches the disk: {@link #record} claims a slot in a lock-free ring (many
 * producers, one consumer). When the ring is full it waits for room, up to {@code waitMillis}
 * measured on the injected clock, woken by the writer after each batch; only then (or at once
 * when the writer failed or the sink is closed) does the failure policy apply. So a producer that
 * outruns the disk is slowed to the disk's speed instead of refused, up to the wait.
 * {@link #flush} waits for what was accepted before it; {@link #close} drains the queue and
 * closes the target. Thread-safe.
 *
 * <p>Close protocol: the {@link #CLOSED} bit is set in {@link #tail} by one atomic update, so a
 * slot is either claimed before it (and written: the writer drains up to the index at close) or
 * refused; no lock is taken on the record path.
 */
public final class AsyncWriter extends SinkWriter {
  /** Set in {@link #tail} by {@link #close}; no slot is claimed after it. */
  private static final long CLOSED = 1L << 62;
  /** Idle checks before the writer parks (catches back-to-back events without a park). */
  private static final int SPINS = 20;
  /**
   * After a batch the writer naps this long when the queue is empty, without asking producers
   * to wake it: under steady load events gather for one batch per nap instead of each producer
   * paying a wake-up (a system call) per event. A full batch, a waiting producer, flush and
   * close wake it early.
   */
  private static final long NAP_NANOS = 1_000_000L;
  /** Empty naps in a row before the writer sleeps until a producer wakes it. */
  private static final int NAPS_BEFORE_SLEEP = 50;
  /** The writer's sleep when idle; a producer or close wakes it earlier. */
  private static final long IDLE_PARK_NANOS = 100_000_000L;

  private static final int OK = 0;
  private static final int FULL = 1;
  private static final int SHUT = 2;
  private static final int BROKEN = 3;
  private static final int INTERRUPTED = 4;

  private final AuditEvent[] ring;
  /** Slots in the ring: the capacity, but at least 2 (a one-slot ring cannot tell laps apart). */
  private final int slots;
  /**
   * Per slot: equal to the index a producer may claim (free), or that index + 1 (published, for
   * the writer to take). Vyukov's bounded queue.
   */
  private final AtomicLongArray seq;
  private final int capacity;
  private final int maxBatch;
  private final long waitMillis;
  /** The next index to claim, with {@link #CLOSED} once closed. */
  private final AtomicLong tail = new AtomicLong();
  /** The next index the writer takes; written by the writer only. */
  private volatile long head;
  /** The writer sleeps until woken (idle for a while): producers wake it. */
  private volatile boolean sleeping;
  /** Empty naps in a row; writer thread only. A new writer sleeps until the first event. */
  private int naps = NAPS_BEFORE_SLEEP;
  /** Producers waiting for room; changed under {@link #room}. */
  private volatile int waiters;
  private final Object room = new Object();
  private final Object progress = new Object();
  private final Thread thread;
  private volatile Throwable failure;
  private long done;
  private boolean finished;

  /** A writer that refuses at once when the queue is full. */
  public AsyncWriter(Target target, int capacity, int maxBatch, FailurePolicy policy,
      Clock clock, String name) {
    this(target, capacity, maxBatch, 0, policy, clock, name);
  }

  /**
   * A writer whose producers wait up to {@code waitMillis} (on {@code clock}) for room when the
   * queue is full; 0 refuses at once.
   */
  public AsyncWriter(Target target, int capacity, int maxBatch, long waitMillis,
      FailurePolicy policy, Clock clock, String name) {
    super(target, policy, clock, name);
    if (capacity < 1 || maxBatch < 1 || waitMillis < 0) {
      throw new IllegalArgumentException("capacity " + capacity + ", maxBatch " + maxBatch
          + ", waitMillis " + waitMillis);
    }
    this.capacity = capacity;
    this.maxBatch = maxBatch;
    this.waitMillis = waitMillis;
    this.slots = Math.max(2, capacity);
    this.ring = new AuditEvent[slots];
    this.seq = new AtomicLongArray(slots);
    for (int i = 0; i < slots; i++) {
      seq.set(i, i);
    }
    this.thread = new Thread(this::run, "saferun-audit-writer " + name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void record(AuditEvent event) {
    Throwable f = failure;
    int r = f != null ? BROKEN : offer(event);
    if (r == OK) {
      return;
    }
    if (r == FULL && waitMillis > 0) {
      r = awaitRoom(event);
      if (r == OK) {
        return;
      }
    }
    switch (r) {
      case SHUT:
        lost(event, "the audit sink " + name + " is closed", null);
        break;
      case BROKEN:
        f = failure;
        lost(event, "the audit writer of " + name + " failed earlier: " + f, f);
        break;
      case INTERRUPTED:
        lost(event, "interrupted while waiting for room in the audit queue of " + name, null);
        break;
      default:
        lost(event, "audit queue of " + name + " is full (" + capacity + " events"
            + (waitMillis > 0 ? ", no room within " + waitMillis + " ms" : "")
            + "): the audit writer is behind", null);
    }
  }

  /** Claims a slot and publishes the event in it: {@link #OK}, {@link #FULL} or {@link #SHUT}. */
  private int offer(AuditEvent event) {
    for (;;) {
      long t = tail.get();
      if ((t & CLOSED) != 0) {
        return SHUT;
      }
      if (slots != capacity && t - head >= capacity) {
        return FULL;
      }
      int slot = slot(t);
      long s = seq.get(slot);
      if (s == t) {
        if (tail.compareAndSet(t, t + 1)) {
          ring[slot] = event;
          seq.set(slot, t + 1);
          if (sleeping || t + 1 - head == maxBatch) {
            LockSupport.unpark(thread); // it sleeps, or a full batch is ready while it naps
          }
          return OK;
        }
      } else if (s < t) {
        return FULL; // the writer has not taken the event a lap ago yet
      }
      // Another producer claimed t: read the tail again.
    }
  }

  /**
   * Waits for room until the deadline on the injected clock, re-reading the clock every
   * millisecond at most; the writer wakes waiters after each batch, on failure and on close.
   */
  private int awaitRoom(AuditEvent event) {
    long start = clock.wallMillis();
    long deadline = start + waitMillis < start ? Long.MAX_VALUE : start + waitMillis;
    LockSupport.unpark(thread); // do not let it nap while the queue is full
    synchronized (room) {
      waiters++;
      try {
        for (;;) {
          if (failure != null) {
            return BROKEN;
          }
          int r = offer(event);
          if (r != FULL) {
            return r;
          }
          if (clock.wallMillis() >= deadline) {
            return FULL;
          }
          room.wait(1);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return INTERRUPTED;
      } finally {
        waiters--;
      }
    }
  }

  private int slot(long index) {
    return (int) (index % slots);
  }

  private void run() {
    List<AuditEvent> batch = new ArrayList<>(Math.min(maxBatch, capacity));
    long h = 0;
    for (;;) {
      while (batch.size() < maxBatch) {
        int slot = slot(h);
        if (seq.get(slot) != h + 1) {
          break;
        }
        batch.add(ring[slot]);
        ring[slot] = null;
        seq.set(slot, h + slots);
        h++;
      }
      if (batch.isEmpty()) {
        long t = tail.get();
        if ((t & CLOSED) != 0 && h == (t & ~CLOSED)) {
          break; // everything claimed before close is taken
        }
        idle(h);
        continue;
      }
      head = h;
      naps = 0;
      wakeWaiters();
      if (failure == null) {
        try {
          target.append(batch);
          writeGap();
          target.batchDone();
        } catch (IOException | RuntimeException | Error e) {
          failure = e;
          LOG.error("Audit writer of {} failed; {} event(s) of this batch and {} queued are LOST;"
              + " later events are refused (FAIL_CLOSED) or dropped (LOG_AND_CONTINUE) until the"
              + " sink is recreated", name, batch.size(), (tail.get() & ~CLOSED) - h, e);
          wakeWaiters();
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

  /**
   * Spins briefly, then naps (recently busy) or sleeps until a producer publishes at {@code h}
   * or the sink closes.
   */
  private void idle(long h) {
    int slot = slot(h);
    for (int i = 0; i < SPINS; i++) {
      if (seq.get(slot) == h + 1 || (tail.get() & CLOSED) != 0) {
        return;
      }
      Thread.onSpinWait();
    }
    if (naps < NAPS_BEFORE_SLEEP) {
      naps++;
      LockSupport.parkNanos(this, NAP_NANOS);
      Thread.interrupted();
      return;
    }
    sleeping = true;
    if (seq.get(slot) != h + 1 && (tail.get() & CLOSED) == 0) {
      LockSupport.parkNanos(this, IDLE_PARK_NANOS);
    }
    sleeping = false;
    Thread.interrupted(); // only close() ends this thread
  }

  private void wakeWaiters() {
    if (waiters > 0) {
      synchronized (room) {
        room.notifyAll();
      }
    }
  }

  @Override
  public void flush() throws IOException {
    long goal = tail.get() & ~CLOSED;
    LockSupport.unpark(thread);
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
    long t = tail.getAndUpdate(v -> v | CLOSED);
    if ((t & CLOSED) != 0) {
      return;
    }
    LockSupport.unpark(thread);
    synchronized (room) {
      room.notifyAll(); // waiting producers see the close and refuse
    }
    try {
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
    return (int) ((tail.get() & ~CLOSED) - head);
  }

  /** Producers waiting for room in a full queue (for tests). */
  public int waiting() {
    return waiters;
  }
}
