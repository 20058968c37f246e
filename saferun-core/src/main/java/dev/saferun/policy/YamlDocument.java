package dev.saferun.policy;

import dev.saferun.PolicyConfigException;
import dev.saferun.PolicyConfigException.Problem;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * A YAML document read with SafeRun's safety limits, as a tree whose every node knows its line
 * and column. Policy files are read through it, and so are files that embed policies (policy
 * test files), so both report errors at {@code file:line:col}.
 *
 * <p>Scalars follow the YAML 1.2 core schema (as Go's yaml.v3, which Intercept uses): only
 * {@code true}/{@code false} are booleans ({@code yes}/{@code no} are text), numbers become exact
 * {@link BigDecimal}s, quoted scalars are always text. No classes are ever instantiated from YAML.
 * Limits: {@value #MAX_BYTES} characters, {@value #MAX_ALIASES} aliases, {@value #MAX_NODES}
 * nodes after alias expansion, nesting depth {@value #MAX_DEPTH}; beyond them reading stops at
 * once with a clear error, so alias bombs and oversized files cost bounded memory and time.
 *
 * <p>Immutable and thread-safe once parsed.
 */
public final class YamlDocument {
  /** Largest document read, in characters. */
  public static final int MAX_BYTES = 1 << 20;
  /** Most aliases ({@code *ref}) allowed in one document. */
  public static final int MAX_ALIASES = 50;
  /** Most nodes after aliases are expanded. */
  public static final int MAX_NODES = 100_000;
  /** Deepest nesting of mappings and sequences. */
  public static final int MAX_DEPTH = 64;

  private YamlDocument() {}

  /** A node of the tree. */
  public sealed interface YNode permits YMap, YList, YScalar {
    /** Where the node starts. */
    SourceLocation location();

    /** The node as plain Java values: Map (ordered), List, String, BigDecimal, Boolean or null. */
    Object toPlain();
  }

  /**
   * A mapping, keys in document order.
   *
   * @param entries the entries
   * @param location where the mapping starts
   */
  public record YMap(List<Entry> entries, SourceLocation location) implements YNode {
    /** The value for a key, or {@code null}. */
    public YNode get(String key) {
      for (Entry e : entries) {
        if (e.key().equals(key)) {
          return e.value();
        }
      }
      return null;
    }

    /** The entry for a key, or {@code null}. */
    public Entry entry(String key) {
      for (Entry e : entries) {
        if (e.key().equals(key)) {
          return e;
        }
      }
      return null;
    }

    @Override
    public Object toPlain() {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Entry e : entries) {
        m.put(e.key(), e.value().toPlain());
      }
      return m;
    }
  }

  /**
   * One mapping entry: its key text as written, the key's location, and the value.
   *
   * @param key the key as written
   * @param keyLocation where the key is
   * @param value the value node (a null scalar for {@code key:} with nothing after it)
   */
  public record Entry(String key, SourceLocation keyLocation, YNode value) {}

  /**
   * A sequence.
   *
   * @param items the items
   * @param location where it starts
   */
  public record YList(List<YNode> items, SourceLocation location) implements YNode {
    @Override
    public Object toPlain() {
      List<Object> l = new ArrayList<>();
      for (YNode n : items) {
        l.add(n.toPlain());
      }
      return l;
    }
  }

  /**
   * A scalar: a String, an exact BigDecimal, a Boolean, or {@code null}.
   *
   * @param value the value
   * @param location where it is
   */
  public record YScalar(Object value, SourceLocation location) implements YNode {
    @Override
    public Object toPlain() {
      return value;
    }
  }

  /**
   * Reads a document. An empty document gives a null scalar.
   *
   * @throws PolicyConfigException with the location of the first syntax or limit error
   */
  public static YNode parse(String text, String source) {
    if (text.length() > MAX_BYTES) {
      throw fail(source, 1, 1, "file is too large: " + text.length() + " characters, the limit is "
          + MAX_BYTES);
    }
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setAllowRecursiveKeys(false);
    options.setAllowDuplicateKeys(true); // reported by us, with a location
    options.setNestingDepthLimit(MAX_DEPTH);
    options.setCodePointLimit(MAX_BYTES);
    options.setProcessComments(false);
    Yaml yaml = new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()),
        new DumperOptions(), options, new PlainResolver());
    Node root;
    try {
      root = yaml.compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String msg = (e.getContext() == null ? "" : e.getContext() + ", ")
          + (e.getProblem() == null ? "invalid YAML" : e.getProblem());
      throw fail(source, m == null ? 1 : m.getLine() + 1, m == null ? 1 : m.getColumn() + 1,
          "invalid YAML: " + msg.trim());
    } catch (YAMLException e) {
      throw fail(source, 1, 1, "invalid YAML: " + e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      throw fail(source, 1, 1, "invalid YAML: " + e);
    }
    if (root == null) {
      return new YScalar(null, new SourceLocation(source, 1, 1));
    }
    return new Converter(source).convert(root, 0);
  }

  /**
   * {@code ", did you mean 'x'?"} for the candidate closest to {@code given} (edit distance at
   * most 2), else {@code ""}: the suggestion SafeRun's own errors use, for files that embed
   * SafeRun YAML and report their own unknown keys.
   */
  public static String didYouMean(String given, List<String> candidates) {
    return PolicyValidator.suggest(given, candidates);
  }

  private static PolicyConfigException fail(String source, int line, int col, String message) {
    return new PolicyConfigException(List.of(new Problem(source, line, col, "", message, false)));
  }

  /** Resolves nothing implicitly: plain scalars are typed by {@link Converter} (YAML 1.2 core). */
  private static final class PlainResolver extends Resolver {
    @Override
    protected void addImplicitResolvers() {
      // none: every plain scalar is first read as text
    }
  }

  private static final class Converter {
    private final String source;
    private final IdentityHashMap<Node, Boolean> onPath = new IdentityHashMap<>();
    private int nodes;

    Converter(String source) {
      this.source = source;
    }

    private SourceLocation loc(Node n) {
      Mark m = n.getStartMark();
      return m == null ? SourceLocation.unknown(source)
          : new SourceLocation(source, m.getLine() + 1, m.getColumn() + 1);
    }

    YNode convert(Node n, int depth) {
      if (++nodes > MAX_NODES) {
        throw fail(source, loc(n).line(), loc(n).column(), "document too large after expanding"
            + " aliases: more than " + MAX_NODES + " nodes (alias bomb?)");
      }
      if (depth > MAX_DEPTH) {
        throw fail(source, loc(n).line(), loc(n).column(), "nesting deeper than " + MAX_DEPTH);
      }
      if (onPath.put(n, Boolean.TRUE) != null) {
        throw fail(source, loc(n).line(), loc(n).column(), "recursive alias");
      }
      try {
        if (n instanceof ScalarNode) {
          return new YScalar(scalar((ScalarNode) n), loc(n));
        }
        if (n instanceof SequenceNode) {
          List<YNode> items = new ArrayList<>();
          for (Node item : ((SequenceNode) n).getValue()) {
            items.add(convert(item, depth + 1));
          }
          return new YList(List.copyOf(items), loc(n));
        }
        MappingNode mn = (MappingNode) n;
        List<Entry> entries = new ArrayList<>();
        Map<String, SourceLocation> seen = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
          Node k = t.getKeyNode();
          if (!(k instanceof ScalarNode)) {
            throw fail(source, loc(k).line(), loc(k).column(), "mapping keys must be plain text");
          }
          if (k.getTag() == Tag.MERGE || "<<".equals(((ScalarNode) k).getValue())) {
            throw fail(source, loc(k).line(), loc(k).column(),
                "merge keys (<<) are not supported in SafeRun files; write the keys out");
          }
          String key = ((ScalarNode) k).getValue();
          SourceLocation prev = seen.put(key, loc(k));
          if (prev != null) {
            throw fail(source, loc(k).line(), loc(k).column(), "duplicate key '" + key
                + "' (first at line " + prev.line() + ")");
          }
          entries.add(new Entry(key, loc(k), convert(t.getValueNode(), depth + 1)));
        }
        return new YMap(List.copyOf(entries), loc(n));
      } finally {
        onPath.remove(n);
      }
    }

    private Object scalar(ScalarNode n) {
      String v = n.getValue();
      Tag tag = n.getTag();
      if (n.getScalarStyle() != DumperOptions.ScalarStyle.PLAIN) {
        return v;
      }
      if (Tag.STR.equals(tag)) {
        return plain(v);
      }
      if (Tag.INT.equals(tag) || Tag.FLOAT.equals(tag)) {
        Object o = plain(v);
        if (!(o instanceof BigDecimal)) {
          throw fail(source, loc(n).line(), loc(n).column(), "not a number: '" + v + "'");
        }
        return o;
      }
      if (Tag.BOOL.equals(tag)) {
        Object o = plain(v);
        if (!(o instanceof Boolean)) {
          throw fail(source, loc(n).line(), loc(n).column(), "not a boolean: '" + v + "'");
        }
        return o;
      }
      if (Tag.NULL.equals(tag)) {
        return null;
      }
      throw fail(source, loc(n).line(), loc(n).column(),
          "YAML tag " + tag + " is not supported in SafeRun files");
    }

    /** YAML 1.2 core schema resolution of a plain scalar. */
    private static Object plain(String v) {
      switch (v) {
        case "":
        case "~":
        case "null":
        case "Null":
        case "NULL":
          return null;
        case "true":
        case "True":
        case "TRUE":
          return Boolean.TRUE;
        case "false":
        case "False":
        case "FALSE":
          return Boolean.FALSE;
        default:
          break;
      }
      if (v.length() > 200) {
        return v;
      }
      if (v.matches("[-+]?[0-9]+")) {
        return new BigDecimal(v.startsWith("+") ? v.substring(1) : v);
      }
      if (v.matches("0x[0-9a-fA-F]+")) {
        return new BigDecimal(new BigInteger(v.substring(2), 16));
      }
      if (v.matches("0o[0-7]+")) {
        return new BigDecimal(new BigInteger(v.substring(2), 8));
      }
      if (v.matches("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?")) {
        try {
          BigDecimal d = new BigDecimal(v.startsWith("+") ? v.substring(1) : v);
          if (Math.abs((long) d.scale()) > 1000) {
            return v;
          }
          return d;
        } catch (NumberFormatException e) {
          return v;
        }
      }
      return v;
    }
  }
}
