package dev.saferun.internal.audit;

import dev.saferun.audit.AuditException;
import dev.saferun.audit.AuditLog.Entry;
import dev.saferun.audit.AuditLog.EntryKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/** Streams the records of audit files in order, parsed. Stateless (each stream has its state). */
public final class LogReader {
  private LogReader() {}

  /** The records of the files, lazily; closing the stream closes the open file. */
  public static Stream<Entry> entries(List<Path> files) {
    Entries it = new Entries(files);
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it,
        Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(it::close);
  }

  private static final class Entries implements Iterator<Entry> {
    private final List<Path> files;
    private int index;
    private Path file;
    private LineReader reader;
    private Entry next;

    Entries(List<Path> files) {
      this.files = files;
    }

    @Override
    public boolean hasNext() {
      if (next == null) {
        try {
          next = advance();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
      }
      return next != null;
    }

    @Override
    public Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Entry e = next;
      next = null;
      return e;
    }

    private Entry advance() throws IOException {
      while (true) {
        if (reader == null) {
          if (index >= files.size()) {
            return null;
          }
          file = files.get(index++);
          reader = new LineReader(file);
        }
        if (!reader.next()) {
          reader.close();
          reader = null;
          continue;
        }
        long line = reader.lineNumber();
        if (!reader.complete()) {
          return new Entry(file, line, -1, EntryKind.TORN, null, reader.length(), 0);
        }
        Records.Parsed p;
        try {
          p = Records.parse(reader.buffer(), reader.start(), reader.length());
        } catch (IllegalArgumentException e) {
          throw new AuditException(file + ":" + line + ": " + e.getMessage()
              + " (run 'saferun audit verify')", e);
        }
        return new Entry(file, line, p.n(), EntryKind.valueOf(p.kind().name()), p.event(),
            p.dropped(), p.rejected());
      }
    }

    void close() {
      if (reader != null) {
        try {
          reader.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        reader = null;
      }
    }
  }
}
