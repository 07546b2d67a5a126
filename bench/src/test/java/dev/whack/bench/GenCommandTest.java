package dev.whack.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code whack gen}: the records scripts/gen-profiles writes for P5, read back by {@code whack
 * load}.
 */
class GenCommandTest {
  @TempDir Path dir;

  @Test
  void shouldWriteTheSameRecordsForTheSameSeedAndTime() throws IOException {
    Path a = dir.resolve("a.ndjson");
    Path b = dir.resolve("b.ndjson");
    Path c = dir.resolve("c.ndjson");
    String now = String.valueOf(EmbeddedNode.TEST_EPOCH_MILLIS);
    assertEquals(
        0,
        Harness.run("gen", "500", "--updates", "100", "--now", now, "-o", a.toString()).exitCode());
    assertEquals(
        0,
        Harness.run("gen", "500", "--updates", "100", "--now", now, "-o", b.toString()).exitCode());
    assertEquals(
        0,
        Harness.run(
                "gen", "500", "--updates", "100", "--now", now, "--seed", "7", "-o", c.toString())
            .exitCode());
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    assertFalse(Files.readString(a).equals(Files.readString(c)), "another seed, other records");
    assertEquals(600, Files.readAllLines(a).size());
    assertTrue(
        Files.readAllLines(a).get(0).startsWith("{\"key\":\"user:0\",\"profile\":{\"country\":"));
  }

  @Test
  void shouldWriteRecordsThatLoadWithoutABadOneInEitherFormat() {
    for (String name : new String[] {"profiles.ndjson.gz", "profiles.pb"}) {
      Path file = dir.resolve(name);
      Harness.Run gen = Harness.run("gen", "2000", "--updates", "1000", "-o", file.toString());
      assertEquals(0, gen.exitCode(), gen.toString());
      assertTrue(gen.err().startsWith("gen: 3,000 records to " + file), gen.err());
      try (EmbeddedNode node = EmbeddedNode.start()) {
        Harness.Run load =
            Harness.run(
                "load",
                file.toString(),
                "--servers",
                node.address(),
                "--progress",
                "never",
                "--json");
        assertEquals(0, load.exitCode(), load.toString());
        assertTrue(load.out().contains("\"applied\":3000"), load.out());
        Harness.Run count =
            Harness.run(
                "segment", "query", "exists(country)", "--count", "--servers", node.address());
        assertEquals("2000", count.out().trim(), count.toString());
      }
    }
  }

  @Test
  void shouldRefuseUpdatesWithoutProfilesAndUnknownFormats() {
    Harness.Run updates = Harness.run("gen", "0", "--updates", "5");
    assertEquals(2, updates.exitCode(), updates.toString());
    assertEquals(
        "whack gen: --updates needs profiles to update\nTry 'whack gen --help'.\n", updates.err());
    Harness.Run format = Harness.run("gen", "5", "--format", "csv");
    assertEquals(2, format.exitCode(), format.toString());
    assertTrue(
        format.err().startsWith("whack gen: --format is ndjson or proto, got csv"), format.err());
  }
}
