package dev.whack.cli.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.whack.proto.LoadRecord;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Framing of NDJSON and protobuf records, fed whole and in trickles, good and bad. */
class RecordReadersTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Hands out at most a few bytes per read, so every record straddles reads. */
  private static InputStream trickle(byte[] data, long seed) {
    Random r = new Random(seed);
    return new FilterInputStream(new ByteArrayInputStream(data)) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return super.read(b, off, Math.min(len, 1 + r.nextInt(7)));
      }
    };
  }

  private static List<Record> readAll(RecordReader reader) throws Exception {
    List<Record> out = new ArrayList<>();
    for (Record r; (r = reader.next()) != null; ) {
      out.add(r);
    }
    return out;
  }

  @Test
  void shouldFrameEveryShapeOfAnNdjsonRecord() throws Exception {
    String text =
        "{\"key\":\"a\",\"profile\":{\"x\":1}}\n"
            + "  { \"key\" : \"b\" , \"update\" : {\"incr\":{\"n\":1}} }  \r\n"
            + "\n"
            + "{\"update\":{\"set\":{\"s\":\"}\"}},\"key\":\"c\"}\n"
            + "{\"key\":\"d\\\"\\u00e9\\n\",\"profile\":{\"t\":[\"{\",\"]\"]}}";
    for (long seed = 0; seed < 20; seed++) {
      List<Record> records =
          readAll(
              new NdjsonReader(
                  seed == 0 ? new ByteArrayInputStream(utf8(text)) : trickle(utf8(text), seed)));
      assertEquals(4, records.size());
      assertEquals("a", records.get(0).key());
      assertEquals(Record.Kind.PROFILE, records.get(0).kind());
      assertArrayEquals(utf8("{\"x\":1}"), records.get(0).body());
      assertEquals(1, records.get(0).position());
      assertEquals("b", records.get(1).key());
      assertEquals(Record.Kind.UPDATE, records.get(1).kind());
      assertArrayEquals(utf8("{\"incr\":{\"n\":1}}"), records.get(1).body());
      assertEquals(2, records.get(1).position());
      assertEquals("c", records.get(2).key());
      assertArrayEquals(utf8("{\"set\":{\"s\":\"}\"}}"), records.get(2).body());
      assertEquals(4, records.get(2).position(), "the blank line counts");
      assertEquals("d\"\u00e9\n", records.get(3).key());
      assertArrayEquals(utf8("{\"t\":[\"{\",\"]\"]}"), records.get(3).body());
      assertFalse(records.get(3).protobuf());
    }
  }

  @Test
  void shouldReportABadLineWithItsNumberAndColumnAndGoOn() throws Exception {
    String text =
        "{\"key\":\"a\",\"profile\":{}}\n"
            + "{\"update\":{},\"key\":\"b\",\"profile\":{}}\n"
            + "{\"key\":1,\"profile\":{}}\n"
            + "{\"profile\":{}}\n"
            + "{\"key\":\"e\",\"profile\":[]}\n"
            + "{\"key\":\"f\",\"key\":\"g\",\"profile\":{}}\n"
            + "{\"key\":\"h\",\"profile\":{}} x\n"
            + "{\"key\":\"i\",\"profile\":{}}\n";
    NdjsonReader reader = new NdjsonReader(new ByteArrayInputStream(utf8(text)));
    assertEquals("a", reader.next().key());
    assertBad(reader, "line 2, column 24", "a record has one of a profile, an update or an item");
    assertBad(reader, "line 3, column 8", "\"key\" is a string");
    assertBad(
        reader,
        "line 4, column 14",
        "a record needs \"key\" and one of \"profile\", \"update\" or \"item\"");
    assertBad(reader, "line 5, column 22", "\"profile\" is an object");
    assertBad(reader, "line 6, column 12", "duplicate member \"key\"");
    assertBad(reader, "line 7, column 26", "unexpected content after the record");
    assertEquals("i", reader.next().key());
    assertNull(reader.next());
  }

  private static void assertBad(RecordReader reader, String where, String reason) {
    BadRecordException e = assertThrows(BadRecordException.class, reader::next);
    assertEquals(where + ": " + reason, e.getMessage());
    assertEquals(true, e.recoverable());
  }

  @Test
  void shouldLeaveWhatFollowsALastBodyToTheNode() throws Exception {
    // The common shape is cut from both ends without walking the body: a member after it stays
    // in the body, which the node then rejects as trailing content (and applies nothing).
    Record r =
        new NdjsonReader(
                new ByteArrayInputStream(utf8("{\"key\":\"b\",\"profile\":{},\"update\":{}}")))
            .next();
    assertArrayEquals(utf8("{},\"update\":{}"), r.body());
  }

  @Test
  void shouldReadLinesLongerThanItsBuffer() throws Exception {
    String big = "x".repeat(5_000_000);
    String text =
        "{\"key\":\"a\",\"profile\":{\"s\":\"" + big + "\"}}\n{\"key\":\"b\",\"profile\":{}}\n";
    List<Record> records = readAll(new NdjsonReader(new ByteArrayInputStream(utf8(text))));
    assertEquals(2, records.size());
    assertEquals(big.length() + 8, records.get(0).body().length);
    assertEquals("b", records.get(1).key());
  }

  @Test
  void shouldFindNewlinesLikeANaiveScan() {
    Random r = new Random(1);
    for (int round = 0; round < 2000; round++) {
      byte[] b = new byte[r.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        int pick = r.nextInt(6);
        b[i] =
            (byte) (pick == 0 ? '\n' : pick == 1 ? 0x0b : pick == 2 ? (byte) 0x8a : r.nextInt(256));
      }
      int from = b.length == 0 ? 0 : r.nextInt(b.length);
      int naive = -1;
      for (int i = from; i < b.length; i++) {
        if (b[i] == '\n') {
          naive = i;
          break;
        }
      }
      assertEquals(naive, NdjsonReader.indexOfNewline(b, from, b.length));
    }
  }

  private static byte[] delimited(LoadRecord... records) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (LoadRecord r : records) {
      r.writeDelimitedTo(out);
    }
    return out.toByteArray();
  }

  @Test
  void shouldFrameProtobufRecordsWithoutParsingTheirBodies() throws Exception {
    Profile profile = Profile.newBuilder().setKey("inner").build();
    Update update = Update.newBuilder().addUnset("x").build();
    byte[] data =
        delimited(
            LoadRecord.newBuilder().setKey("a").setProfile(profile).build(),
            LoadRecord.newBuilder().setKey("b").setUpdate(update).build(),
            LoadRecord.newBuilder().setProfile(profile).build(), // key from the body
            LoadRecord.newBuilder()
                .setKey("big")
                .setProfile(
                    Profile.newBuilder()
                        .addAttributes(
                            dev.whack.proto.Attribute.newBuilder()
                                .setName("s")
                                .setValue(
                                    dev.whack.proto.Value.newBuilder()
                                        .setStringValueBytes(
                                            ByteString.copyFrom(new byte[3_000_000])))))
                .build());
    for (long seed = 0; seed < 5; seed++) {
      List<Record> records =
          readAll(
              new ProtobufReader(seed == 0 ? new ByteArrayInputStream(data) : trickle(data, seed)));
      assertEquals(4, records.size());
      assertEquals("a", records.get(0).key());
      assertArrayEquals(profile.toByteArray(), records.get(0).body());
      assertEquals(0, records.get(0).position());
      assertEquals(Record.Kind.UPDATE, records.get(1).kind());
      assertArrayEquals(update.toByteArray(), records.get(1).body());
      assertEquals("inner", records.get(2).key());
      assertEquals("big", records.get(3).key());
      assertEquals(true, records.get(3).protobuf());
    }
  }

  @Test
  void shouldStopAtABrokenFrame() throws Exception {
    byte[] good =
        delimited(
            LoadRecord.newBuilder().setKey("a").setProfile(Profile.getDefaultInstance()).build());
    byte[] huge = new byte[good.length + 5];
    System.arraycopy(good, 0, huge, 0, good.length);
    System.arraycopy(
        new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f},
        0,
        huge,
        good.length,
        5);
    ProtobufReader reader = new ProtobufReader(new ByteArrayInputStream(huge));
    assertEquals("a", reader.next().key());
    BadRecordException e = assertThrows(BadRecordException.class, reader::next);
    assertEquals("offset " + good.length, e.where());
    assertFalse(e.recoverable());

    ProtobufReader garbage =
        new ProtobufReader(
            new ByteArrayInputStream(new byte[] {3, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
    BadRecordException bad = assertThrows(BadRecordException.class, garbage::next);
    assertEquals("offset 0", bad.where());
    assertEquals(true, bad.recoverable(), "the frame was whole: the next record can be read");
    assertNull(garbage.next());
  }

  @Test
  void shouldTellNdjsonFromProtobufByTheFirstBytes() throws IOException {
    assertEquals(RecordFormat.NDJSON, sniff(utf8("{\"key\":\"a\"}")));
    assertEquals(RecordFormat.NDJSON, sniff(utf8("\n\n  { \"key\"")));
    assertEquals(RecordFormat.NDJSON, sniff(new byte[0]));
    assertEquals(RecordFormat.PROTO, sniff(delimited(LoadRecord.newBuilder().setKey("a").build())));
    // A first record of 123 bytes begins with '{' (0x7b) followed by the key's tag 0x0a.
    byte[] record = delimited(LoadRecord.newBuilder().setKey("k".repeat(121)).build());
    assertEquals('{', record[0]);
    assertEquals(RecordFormat.PROTO, sniff(record));
  }

  private static RecordFormat sniff(byte[] head) {
    return RecordFormat.sniff(head, head.length);
  }
}
