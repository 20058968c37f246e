package dev.saferun.internal.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The hash that links audit records: sha-256 of a record's bytes, or HMAC-SHA256 with a key. Not
 * thread-safe (one per writer or verifier).
 */
public final class ChainHash {
  /** Header value of an unkeyed chain. */
  public static final String SHA256 = "sha256";
  /** Header value of a keyed chain. */
  public static final String HMAC_SHA256 = "hmac-sha256";
  /** Shortest accepted HMAC key. */
  public static final int MIN_KEY_BYTES = 16;

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final MessageDigest digest;
  private final Mac mac;
  private final String keyId;
  private final byte[] d = new byte[32];

  private ChainHash(MessageDigest digest, Mac mac, String keyId) {
    this.digest = digest;
    this.mac = mac;
    this.keyId = keyId;
  }

  /** An unkeyed sha-256 chain. */
  public static ChainHash sha256() {
    try {
      return new ChainHash(MessageDigest.getInstance("SHA-256"), null, null);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** An HMAC-SHA256 chain under {@code key}. */
  public static ChainHash hmac(byte[] key) {
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException("audit HMAC key must have at least " + MIN_KEY_BYTES
          + " bytes, got " + key.length);
    }
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return new ChainHash(null, m, keyId(key));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /**
   * A public identifier of a key (first 8 bytes of the sha-256 of "saferun-audit-key:" + key, in
   * hex), written in file headers so a verifier can tell a wrong key from tampering.
   */
  public static String keyId(byte[] key) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update("saferun-audit-key:".getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(Arrays.copyOf(md.digest(key), 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** {@link #SHA256} or {@link #HMAC_SHA256}. */
  public String alg() {
    return mac == null ? SHA256 : HMAC_SHA256;
  }

  /** The key's id, or {@code null} for sha-256. */
  public String keyId() {
    return keyId;
  }

  /** Hashes {@code len} bytes of {@code b} and writes the 64 lowercase hex digits to {@code hex}. */
  public void hashHex(byte[] b, int off, int len, byte[] hex, int hexOff) {
    try {
      if (mac != null) {
        mac.update(b, off, len);
        mac.doFinal(d, 0);
      } else {
        digest.update(b, off, len);
        digest.digest(d, 0, d.length);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash an audit record", e);
    }
    for (int i = 0; i < d.length; i++) {
      hex[hexOff + 2 * i] = HEX[(d[i] >> 4) & 0xf];
      hex[hexOff + 2 * i + 1] = HEX[d[i] & 0xf];
    }
  }
}
