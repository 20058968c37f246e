package dev.saferun.internal.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.saferun.CallContext;
import dev.saferun.Decision;
import dev.saferun.audit.AuditEvent;
import dev.saferun.internal.json.Canonical;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The line format of the audit log. Every line is one JSON object whose first member is the
 * record number and whose last two are the previous record's hash and this record's hash:
 *
 * <pre>{"n":42, ...body..., "prev":"&lt;64 hex&gt;","hash":"&lt;64 hex&gt;"}</pre>
 *
 * <p>{@code hash} is computed over the line's bytes up to (excluding) {@code ,"hash":"}, which
 * include {@code prev}; so the layout is fixed and a verifier never needs to parse JSON. Bodies:
 * a header ({@code "header":{...}}, first line of every file), an event (the {@link AuditEvent}
 * components by name), a gap ({@code "gap":{"dropped":d,"rejected":r}}) or an end record
 * ({@code "end":"rotate"|"close"}). Stateless.
 */
public final class Records {
  /** The format name written in every header. */
  public static final String FORMAT = "saferun-audit/1";
  /** The {@code prev} of the first record of a chain. */
  public static final String GENESIS = "0".repeat(64);
  /** Bytes after the hash input: {@code ,"hash":"<64 hex>"}}. */
  public static final int HASH_TAIL = 9 + 64 + 2;
  /** Bytes of {@code ,"prev":"<64 hex>"} at the end of the hash input. */
  public static final int PREV_TAIL = 9 + 64 + 1;

  private static final byte[] START = "{\"n\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_MARK = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREV_MARK = ",\"prev\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** Reads records and arguments: exact decimals, generous limits (records may be large). */
  static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(2000)
              .maxStringLength(Integer.MAX_VALUE)
              .maxNumberLength(100_000)
              .build())
          .build())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private Records() {}

  /** What a line holds. */
  public enum Kind { HEADER, EVENT, GAP, END }

  // ---------------------------------------------------------------- writing

  /** The body of an event record, as UTF-8 bytes. */
  static void event(Utf8Out out, AuditEvent e, CanonicalText.Clock times) {
    out.ascii("\"time\":\"");
    times.append(out, e.time());
    out.put('"');
    out.ascii(",\"sequence\":").number(e.sequence());
    out.ascii(",\"type\":\"").ascii(e.type().name()).put('"');
    field(out, ",\"tool\":", e.tool());
    out.ascii(",\"context\":{");
    boolean first = true;
    for (Map.Entry<String, String> c : e.context().asMap().entrySet()) {
      if (!first) {
        out.put(',');
      }
      first = false;
      string(out, c.getKey());
      out.put(':');
      string(out, c.getValue());
    }
    out.put('}');
    String arguments = e.arguments();
    if (arguments != null) {
      out.ascii(",\"arguments\":");
      if (CanonicalText.isCanonicalObject(arguments)) {
        out.text(arguments, 0, arguments.length());
      } else {
        string(out, arguments);
      }
    }
    field(out, ",\"argumentsHash\":", e.argumentsHash());
    field(out, ",\"policy\":", e.policy());
    field(out, ",\"policyVersion\":", e.policyVersion());
    field(out, ",\"rule\":", e.rule());
    field(out, ",\"message\":", e.message());
    Decision.ShadowVerdict s = e.shadow();
    if (s != null) {
      out.ascii(",\"shadow\":{\"outcome\":\"").ascii(s.outcome().name()).put('"');
      field(out, ",\"policy\":", s.policy());
      field(out, ",\"rule\":", s.rule());
      field(out, ",\"message\":", s.message());
      out.put('}');
    }
    out.ascii(",\"decisionNanos\":").number(e.decisionNanos());
    field(out, ",\"approvalId\":", e.approvalId());
    field(out, ",\"approver\":", e.approver());
    out.ascii(",\"toolNanos\":").number(e.toolNanos());
    if (e.cost() != null) {
      field(out, ",\"cost\":", e.cost().toPlainString());
    }
  }

  /** The body of a header record. */
  static void header(StringBuilder sb, long fileIndex, Instant created, ChainHash hash,
      String reason, long tornFile, long tornBytes) {
    sb.append("\"header\":{\"format\":\"").append(FORMAT).append('"');
    sb.append(",\"file\":").append(fileIndex);
    sb.append(",\"created\":\"").append(created).append('"');
    sb.append(",\"alg\":\"").append(hash.alg()).append('"');
    if (hash.keyId() != null) {
      sb.append(",\"key\":\"").append(hash.keyId()).append('"');
    }
    sb.append(",\"reason\":\"").append(reason).append('"');
    if (tornBytes > 0) {
      sb.append(",\"torn\":{\"file\":").append(tornFile).append(",\"bytes\":").append(tornBytes)
          .append('}');
    }
    sb.append('}');
  }

  /** The body of a gap record: events lost or refused since the previous gap record. */
  static void gap(StringBuilder sb, Instant time, long dropped, long rejected) {
    sb.append("\"time\":\"").append(time).append("\",\"gap\":{\"dropped\":").append(dropped)
        .append(",\"rejected\":").append(rejected).append('}');
  }

  /** The body of an end record. */
  static void end(StringBuilder sb, Instant time, String reason) {
    sb.append("\"time\":\"").append(time).append("\",\"end\":\"").append(reason).append('"');
  }

  /** {@code prefix} is the member's {@code ,"name":}. */
  private static void field(Utf8Out out, String prefix, String value) {
    if (value != null) {
      out.ascii(prefix);
      string(out, value);
    }
  }

  /**
   * A JSON string literal; escapes controls, U+2028/2029 and unpaired surrogates so bytes
   * round-trip. Runs of characters that need no escape are copied in bulk.
   */
  static void string(Utf8Out out, String s) {
    out.put('"');
    int n = s.length();
    int run = 0; // start of the characters not yet appended
    boolean ascii = true; // whether that run is ASCII
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        continue; // the common case: appended with its run below
      }
      if (c >= 0x80 && (c < 0x2028 || (c > 0x2029 && !Character.isSurrogate(c)))) {
        ascii = false;
        continue;
      }
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        ascii = false;
        i++;
        continue;
      }
      flush(out, s, run, i, ascii);
      run = i + 1;
      ascii = true;
      switch (c) {
        case '"':
          out.put('\\').put('"');
          break;
        case '\\':
          out.put('\\').put('\\');
          break;
        case '\n':
          out.put('\\').put('n');
          break;
        case '\r':
          out.put('\\').put('r');
          break;
        case '\t':
          out.put('\\').put('t');
          break;
        default:
          unicode(out, c); // other controls, unpaired surrogates, U+2028/2029
      }
    }
    flush(out, s, run, n, ascii);
    out.put('"');
  }

  private static void flush(Utf8Out out, String s, int from, int to, boolean ascii) {
    if (ascii) {
      out.ascii(s, from, to);
    } else {
      out.text(s, from, to);
    }
  }

  private static void unicode(Utf8Out out, char c) {
    out.put('\\').put('u').put(HEX[(c >> 12) & 0xf]).put(HEX[(c >> 8) & 0xf])
        .put(HEX[(c >> 4) & 0xf]).put(HEX[c & 0xf]);
  }

  // ---------------------------------------------------------------- layout checks

  /**
   * Whether a line (without its newline) has the fixed layout: {@code {"n":<digits>,} at the
   * start, {@code ,"prev":"<hex>","hash":"<hex>"}} at the end, lowercase hex.
   */
  public static boolean wellFormed(byte[] b, int off, int len) {
    if (len < START.length + 2 + PREV_TAIL + HASH_TAIL || !at(b, off, START)
        || number(b, off, len) < 0) {
      return false;
    }
    int end = off + len;
    int hashMark = end - HASH_TAIL;
    int prevMark = hashMark - PREV_TAIL;
    return at(b, hashMark, HASH_MARK) && at(b, prevMark, PREV_MARK)
        && b[hashMark - 1] == '"' && b[end - 2] == '"' && b[end - 1] == '}'
        && hex(b, prevMark + PREV_MARK.length) && hex(b, hashMark + HASH_MARK.length);
  }

  /** The record number at the start of a line, or -1 when there is none. */
  public static long number(byte[] b, int off, int len) {
    if (len < START.length + 2 || !at(b, off, START)) {
      return -1;
    }
    long n = 0;
    int i = off + START.length;
    int end = off + len;
    int digits = 0;
    while (i < end && b[i] >= '0' && b[i] <= '9') {
      if (++digits > 18) {
        return -1;
      }
      n = n * 10 + (b[i] - '0');
      i++;
    }
    return digits == 0 || i >= end || b[i] != ',' ? -1 : n;
  }

  /** Offset of the 64 hex digits of {@code hash} in a well-formed line. */
  public static int hashOffset(int off, int len) {
    return off + len - HASH_TAIL + HASH_MARK.length;
  }

  /** Offset of the 64 hex digits of {@code prev} in a well-formed line. */
  public static int prevOffset(int off, int len) {
    return off + len - HASH_TAIL - PREV_TAIL + PREV_MARK.length;
  }

  /** Length of the hash input of a well-formed line. */
  public static int hashedLength(int len) {
    return len - HASH_TAIL;
  }

  /** What a well-formed line holds, judged from the bytes after its number and time. */
  public static Kind kind(byte[] b, int off, int len) {
    int i = off + START.length;
    while (b[i] != ',') {
      i++;
    }
    i++;
    if (startsWith(b, i, "\"header\":")) {
      return Kind.HEADER;
    }
    if (startsWith(b, i, "\"time\":\"")) {
      i += 8;
      int end = off + len;
      while (i < end && b[i] != '"') {
        i++;
      }
      i++;
      if (startsWith(b, i, ",\"gap\":")) {
        return Kind.GAP;
      }
      if (startsWith(b, i, ",\"end\":")) {
        return Kind.END;
      }
    }
    return Kind.EVENT;
  }

  private static boolean startsWith(byte[] b, int i, String s) {
    if (i + s.length() > b.length) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      if (b[i + k] != s.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean at(byte[] b, int i, byte[] mark) {
    if (i < 0 || i + mark.length > b.length) {
      return false;
    }
    for (int k = 0; k < mark.length; k++) {
      if (b[i + k] != mark[k]) {
        return false;
      }
    }
    return true;
  }

  private static boolean hex(byte[] b, int i) {
    for (int k = i; k < i + 64; k++) {
      byte c = b[k];
      if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- reading

  /**
   * A parsed record.
   *
   * @param kind what the line holds
   * @param n the record number
   * @param event the event, for {@link Kind#EVENT}
   * @param dropped for {@link Kind#GAP}
   * @param rejected for {@link Kind#GAP}
   * @param header the header object, for {@link Kind#HEADER}
   * @param hash the record's hash
   */
  public record Parsed(Kind kind, long n, AuditEvent event, long dropped, long rejected,
      JsonNode header, String hash) {}

  /**
   * Parses one complete line.
   *
   * @throws IllegalArgumentException with the reason, when the line is not an audit record
   */
  public static Parsed parse(byte[] b, int off, int len) {
    JsonNode o;
    try {
      o = MAPPER.readTree(b, off, len);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (o == null || !o.isObject() || !o.path("n").canConvertToLong()) {
      throw new IllegalArgumentException("not an audit record (no \"n\")");
    }
    long n = o.get("n").asLong();
    String hash = o.path("hash").asText(null);
    if (o.has("header")) {
      return new Parsed(Kind.HEADER, n, null, 0, 0, o.get("header"), hash);
    }
    if (o.has("gap")) {
      JsonNode g = o.get("gap");
      return new Parsed(Kind.GAP, n, null, g.path("dropped").asLong(), g.path("rejected").asLong(),
          null, hash);
    }
    if (o.has("end")) {
      return new Parsed(Kind.END, n, null, 0, 0, null, hash);
    }
    return new Parsed(Kind.EVENT, n, event(o), 0, 0, null, hash);
  }

  private static AuditEvent event(JsonNode o) {
    try {
      Map<String, String> ctx = new LinkedHashMap<>();
      JsonNode c = o.path("context");
      for (Map.Entry<String, JsonNode> f : c.properties()) {
        ctx.put(f.getKey(), f.getValue().asText());
      }
      JsonNode a = o.get("arguments");
      String arguments = a == null || a.isNull() ? null
          : a.isObject() ? Canonical.write(a) : a.asText();
      JsonNode s = o.get("shadow");
      Decision.ShadowVerdict shadow = s == null || s.isNull() ? null
          : new Decision.ShadowVerdict(Decision.Outcome.valueOf(s.path("outcome").asText()),
              text(s, "policy"), text(s, "rule"), text(s, "message"));
      String cost = text(o, "cost");
      return new AuditEvent(
          Instant.parse(o.path("time").asText()),
          o.path("sequence").asLong(),
          AuditEvent.Type.valueOf(o.path("type").asText()),
          text(o, "tool"),
          CallContext.of(ctx),
          arguments,
          text(o, "argumentsHash"),
          text(o, "policy"),
          text(o, "policyVersion"),
          text(o, "rule"),
          text(o, "message"),
          shadow,
          o.path("decisionNanos").asLong(),
          text(o, "approvalId"),
          text(o, "approver"),
          o.path("toolNanos").asLong(),
          cost == null ? null : new BigDecimal(cost));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not an audit event: " + e.getMessage(), e);
    }
  }

  private static String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
