package dev.saferun.internal.audit;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a file line by line as byte ranges, without decoding: the verifier hashes exactly the
 * bytes on disk. A last line without a newline is reported as incomplete (a torn write). Not
 * thread-safe.
 */
public final class LineReader implements Closeable {
  private static final int INITIAL = 1 << 16;

  private final FileChannel channel;
  private byte[] buf = new byte[INITIAL];
  private int pos;
  private int limit;
  private int scan;
  private boolean eof;
  private int start;
  private int length;
  private boolean complete;
  private long line;
  private long offset;
  private long consumed;

  public LineReader(Path file) throws IOException {
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
  }

  /** Moves to the next line; {@code false} at the end of the file. */
  public boolean next() throws IOException {
    while (true) {
      for (int i = scan; i < limit; i++) {
        if (buf[i] == '\n') {
          return line(i, true);
        }
      }
      scan = limit;
      if (eof) {
        return pos < limit && line(limit, false);
      }
      fill();
    }
  }

  private boolean line(int endExclusive, boolean withNewline) {
    start = pos;
    length = endExclusive - pos;
    complete = withNewline;
    offset = consumed;
    int used = length + (withNewline ? 1 : 0);
    consumed += used;
    pos += used;
    scan = pos;
    line++;
    return true;
  }

  private void fill() throws IOException {
    if (pos > 0) {
      System.arraycopy(buf, pos, buf, 0, limit - pos);
      limit -= pos;
      scan -= pos;
      pos = 0;
    }
    if (limit == buf.length) {
      buf = Arrays.copyOf(buf, buf.length * 2);
    }
    int n = channel.read(ByteBuffer.wrap(buf, limit, buf.length - limit));
    if (n < 0) {
      eof = true;
    } else {
      limit += n;
    }
  }

  /** The buffer holding the current line. */
  public byte[] buffer() {
    return buf;
  }

  /** Where the current line starts in {@link #buffer()}. */
  public int start() {
    return start;
  }

  /** The current line's length, without its newline. */
  public int length() {
    return length;
  }

  /** Whether the current line ended with a newline. */
  public boolean complete() {
    return complete;
  }

  /** The current line's number, from 1. */
  public long lineNumber() {
    return line;
  }

  /** The byte offset of the current line in the file. */
  public long offset() {
    return offset;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
