package dev.saferun.internal.controls;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.saferun.KillSwitch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Reads and writes the kill switch's state as a small JSON file, so the CLI (and other processes
 * sharing the file) can see and change it. Writes are atomic (temp file, then move). Stateless.
 */
public final class KillSwitchFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private KillSwitchFile() {}

  /** The state in the file; released when the file does not exist. */
  public static KillSwitch.State read(Path file) {
    if (!Files.exists(file)) {
      return KillSwitch.State.RELEASED;
    }
    try {
      JsonNode n = JSON.readTree(Files.readAllBytes(file));
      if (n == null || !n.isObject()) {
        throw new IllegalStateException("kill switch file " + file + " is not a JSON object");
      }
      return new KillSwitch.State(n.path("engaged").asBoolean(false), strings(n.get("tools")),
          strings(n.get("agents")), n.path("reason").asText(""), n.path("by").asText(null),
          n.hasNonNull("since") ? Instant.parse(n.get("since").asText()) : null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read kill switch file " + file, e);
    }
  }

  /** Writes a state atomically. */
  public static void write(Path file, KillSwitch.State s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("engaged", s.engaged());
    n.set("tools", JSON.valueToTree(s.tools()));
    n.set("agents", JSON.valueToTree(s.agents()));
    n.put("reason", s.reason());
    n.put("by", s.by());
    n.put("since", s.since() == null ? null : s.since().toString());
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".killswitch", ".tmp");
      Files.write(tmp, (n.toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kill switch file " + file, e);
    }
  }

  private static Set<String> strings(JsonNode n) {
    Set<String> out = new LinkedHashSet<>();
    if (n != null && n.isArray()) {
      n.forEach(x -> out.add(x.asText()));
    }
    return out;
  }
}
