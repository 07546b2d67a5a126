package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimestampsTest {
  @Test
  void shouldAgreeWithJavaTimeOnRandomInstantsAndOffsets() {
    Random r = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      long millis =
          r.nextLong(Timestamps.MIN_MILLIS + 86_400_000L, Timestamps.MAX_MILLIS - 86_400_000L);
      String utc = Timestamps.format(millis);
      assertEquals(millis, Timestamps.parse(utc), utc);
      int offsetMinutes = (r.nextInt(24 * 60 * 2) - 24 * 60) / 15 * 15;
      String shifted =
          OffsetDateTime.ofInstant(
                  java.time.Instant.ofEpochMilli(millis),
                  java.time.ZoneOffset.ofTotalSeconds(
                      Math.max(-18 * 3600, Math.min(18 * 3600, offsetMinutes * 60))))
              .toString();
      if (Timestamps.looksLikeTimestamp(shifted)) {
        assertEquals(millis, Timestamps.parse(shifted), shifted);
      }
      LocalDate d = LocalDate.ofEpochDay(r.nextInt(2_900_000) - 719_000);
      if (d.getYear() >= 0 && d.getYear() <= 9999) {
        assertEquals(d.toEpochDay(), Timestamps.parseDay(d.toString()), d.toString());
      }
    }
  }

  @Test
  void shouldRejectImpossibleDatesAndTimes() {
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("2026-02-29T00:00:00Z"));
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("2026-04-31T00:00:00Z"));
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("2026-01-01T24:00:00Z"));
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("2026-01-01T00:60:00Z"));
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("2026-01-01T00:00:60Z"));
    assertThrows(
        IllegalArgumentException.class, () -> Timestamps.parse("2026-01-01T00:00:00+24:00"));
    assertThrows(IllegalArgumentException.class, () -> Timestamps.parseDay("2026-13-01"));
    assertEquals(Timestamps.parse("2024-02-29T00:00:00Z"), 1_709_164_800_000L);
  }
}
