package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedPipeline;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The decoders are state machines over whatever the network delivers: every recorded case must give
 * the same replies when its bytes arrive one at a time or in random pieces, as when they arrive at
 * once.
 */
class SplitInputTest {
  /** One node for every case, as the recorded conversations had: cas values keep counting. */
  private static final EmbeddedPipeline NODE = EmbeddedPipeline.start();

  @TestFactory
  Stream<DynamicTest> shouldAnswerTextCasesAlikeWhateverTheSplit() {
    return ProtocolCases.text("memcached-text-cases.txt").stream()
        .flatMap(
            c -> {
              byte[] request =
                  concat("flush_all\r\n".getBytes(StandardCharsets.US_ASCII), c.request());
              String expected = c.expected();
              return Stream.of(
                  DynamicTest.dynamicTest(
                      "byte by byte: " + c.name(), () -> assertText(expected, request, 1, 0)),
                  DynamicTest.dynamicTest(
                      "random pieces: " + c.name(),
                      () -> assertText(expected, request, 0, request.length)));
            });
  }

  @TestFactory
  Stream<DynamicTest> shouldAnswerBinaryCasesAlikeWhateverTheSplit() {
    byte[] flush =
        java.util.HexFormat.of().parseHex("800800000000000000000000deadbeef0000000000000000");
    return ProtocolCases.binary("memcached-binary-cases.txt").stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.name(),
                    () -> {
                      byte[] request = concat(flush, c.request());
                      for (int piece : new int[] {1, 7, 23}) {
                        byte[] reply = run(request, piece, 0);
                        assertEquals(
                            c.expected(),
                            BinaryProtocolCasesTest.packets(reply),
                            "pieces of " + piece);
                      }
                    }));
  }

  private static void assertText(String expected, byte[] request, int piece, long seed) {
    String actual = new String(run(request, piece, seed), StandardCharsets.ISO_8859_1);
    String masked =
        actual
            .replaceAll("(VALUE \\S+ \\d+ \\d+) \\d+", "$1 <cas>")
            .replaceAll(" c\\d+", " c<cas>")
            .replaceAll("cas=\\d+", "cas=<cas>");
    assertEquals(ProtocolCases.escape(expected), ProtocolCases.escape(masked));
  }

  /** Feeds the request in pieces of {@code piece} bytes (0: random sizes) and collects replies. */
  private static byte[] run(byte[] request, int piece, long seed) {
    EmbeddedChannel channel = NODE.connect();
    Random random = new Random(seed);
    int offset = 0;
    ByteArrayOutputStream replies = new ByteArrayOutputStream();
    while (offset < request.length && channel.isOpen()) {
      int size = piece > 0 ? piece : 1 + random.nextInt(Math.min(64, request.length - offset));
      size = Math.min(size, request.length - offset);
      channel.writeInbound(Unpooled.wrappedBuffer(request, offset, size));
      offset += size;
      drain(channel, replies);
    }
    channel.finishAndReleaseAll();
    return replies.toByteArray();
  }

  private static void drain(EmbeddedChannel channel, ByteArrayOutputStream replies) {
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) msg;
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      replies.writeBytes(bytes);
      buf.release();
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
