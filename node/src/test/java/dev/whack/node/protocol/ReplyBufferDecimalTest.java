package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ReplyBufferDecimalTest {
  @Property
  void shouldWriteAnyUnsignedValueAsLongDoes(@ForAll long value) {
    assertEquals(Long.toUnsignedString(value), unsigned(value));
  }

  @Property
  void shouldWriteAnySignedValueAsLongDoes(@ForAll long value) {
    ByteBuf out = Unpooled.buffer();
    ReplyBuffer.writeDecimal(out, value);
    assertEquals(Long.toString(value), out.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void shouldWriteEveryDigitCountAtItsEdges() {
    long[] edges = {0, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 99_999, Long.MAX_VALUE, -1};
    for (long v : edges) {
      assertEquals(Long.toUnsignedString(v), unsigned(v));
    }
  }

  private static String unsigned(long value) {
    ByteBuf out = Unpooled.buffer(1);
    out.writeByte('x');
    ReplyBuffer.writeUnsignedDecimal(out, value);
    return out.toString(StandardCharsets.US_ASCII).substring(1);
  }
}
