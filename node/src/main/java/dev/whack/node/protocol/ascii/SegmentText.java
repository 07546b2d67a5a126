package dev.whack.node.protocol.ascii;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentDryRun;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.keyspace.ProfileRejectedException;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * The text protocol's words for segment (and dimension) answers given whole, as the cluster gives
 * them (docs/protocol.md, "Segments"): {@code SEGMENT} listings, pages of {@code KEY} or {@code
 * PROFILE} lines ending in {@code NEXT} or {@code END}, a dry run's {@code COUNT} and sample, and a
 * {@link ClusterException} as {@code CLIENT_ERROR} (a refused question) or {@code SERVER_ERROR} (a
 * member that could not answer).
 */
final class SegmentText {
  private static final byte[] CRLF = "\r\n".getBytes(ISO_8859_1);
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(ISO_8859_1);

  private SegmentText() {}

  /** This node's segments: what {@code local seglist} answers. */
  static byte[] localList(ProfileEngine engine) {
    return list(engine.segments().stream().map(ClusterSegments.Segment::of).toList());
  }

  /** "SEGMENT <name> <size> <bytes>\r\n<expression>\r\n" each, then "END". */
  static byte[] list(List<ClusterSegments.Segment> segments) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ClusterSegments.Segment s : segments) {
      byte[] expression = s.expression().getBytes(UTF_8);
      out.writeBytes(
          ("SEGMENT " + s.name() + " " + s.size() + " " + expression.length + "\r\n")
              .getBytes(UTF_8));
      out.writeBytes(expression);
      out.writeBytes(CRLF);
    }
    out.writeBytes("END\r\n".getBytes(UTF_8));
    return out.toByteArray();
  }

  /**
   * "DIMENSION <name> <definition JSON>" each, then "END": the canonical JSON is one line (its
   * strings' control characters are escaped).
   */
  static byte[] dimensions(List<DimensionSpec> dimensions) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (DimensionSpec d : dimensions) {
      out.writeBytes(("DIMENSION " + d.name() + " " + d.toJson() + "\r\n").getBytes(UTF_8));
    }
    out.writeBytes("END\r\n".getBytes(UTF_8));
    return out.toByteArray();
  }

  /** "KEY <key>" per key, or "PROFILE <key> <bytes>\r\n<json>" for a dump; "NEXT" or "END". */
  static byte[] page(ClusterSegments.Page page) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean dump = !page.profiles().isEmpty();
    for (int i = 0; i < page.keys().size(); i++) {
      if (dump) {
        byte[] json = page.profiles().get(i);
        out.writeBytes("PROFILE ".getBytes(ISO_8859_1));
        key(out, page.keys().get(i));
        out.writeBytes((" " + json.length + "\r\n").getBytes(ISO_8859_1));
        out.writeBytes(json);
      } else {
        out.writeBytes("KEY ".getBytes(ISO_8859_1));
        key(out, page.keys().get(i));
      }
      out.writeBytes(CRLF);
    }
    String next = page.nextCursor();
    out.writeBytes((next != null ? "NEXT " + next + "\r\n" : "END\r\n").getBytes(ISO_8859_1));
    return out.toByteArray();
  }

  /** A dry run: "COUNT <n>", then "KEY <key>" per sampled member, then "END". */
  static byte[] dryRun(SegmentDryRun dryRun) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(("COUNT " + dryRun.count() + "\r\n").getBytes(ISO_8859_1));
    out.writeBytes(page(new ClusterSegments.Page(dryRun.sample(), List.of(), null)));
    return out.toByteArray();
  }

  /** Why the cluster gave no answer, as one error line. */
  static byte[] error(Throwable error) {
    ClusterException e = ClusterException.of(error);
    String line =
        e == null
            ? "SERVER_ERROR " + ProfileRejectedException.oneLine(error.getMessage())
            : (e.refused() ? "CLIENT_ERROR " : "SERVER_ERROR ") + e.getMessage();
    return (line + "\r\n").getBytes(UTF_8);
  }

  /** A key percent-encoded as {@link dev.whack.node.protocol.KeyText} writes listings' keys. */
  private static void key(ByteArrayOutputStream out, String key) {
    for (int i = 0; i < key.length(); i++) {
      int b = key.charAt(i) & 0xFF;
      if (b > 0x20 && b < 0x7f && b != '%') {
        out.write(b);
      } else {
        out.write('%');
        out.write(HEX[b >>> 4]);
        out.write(HEX[b & 0xF]);
      }
    }
  }
}
