package dev.whack.node.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.TestUsers;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;

/**
 * A name the auth file does not hold is checked against a stand-in hash, so that the time a failed
 * login takes does not tell whether the name exists. Users' hashes may cost differently (other
 * iterations, a longer hash): an unknown name then costs what some real user's hash costs, the same
 * every time, in the proportions the file's users have.
 */
class UnknownUserStandInTest {
  /** An auth file line whose hash is {@code bytes} long (whack auth hash makes 32). */
  private static String lineWithHashOf(String user, int iterations, int bytes) throws Exception {
    byte[] salt = new byte[16];
    PBEKeySpec spec = new PBEKeySpec("pw".toCharArray(), salt, iterations, bytes * 8);
    byte[] hash =
        SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return user
        + " read pbkdf2-sha256$"
        + iterations
        + "$"
        + b64.encodeToString(salt)
        + "$"
        + b64.encodeToString(hash);
  }

  @Test
  void shouldCheckAnUnknownNameAgainstTheCostOfOneOfTheFilesUsers() throws Exception {
    List<String> lines =
        List.of(
            TestUsers.line("cheap1", "pw", Role.READ), // 1,000 iterations, 32 bytes
            TestUsers.line("cheap2", "pw", Role.READ),
            lineWithHashOf("dear", 2_000, 32),
            lineWithHashOf("long", 1_000, 64)); // twice the work of cheap: two PBKDF2 blocks
    Map<String, User> users = AuthFile.parse(lines, "users");
    try (Authenticator auth = Authenticator.of(lines)) {
      int[] chosen = new int[4];
      List<String> order = List.of("cheap1", "dear", "long");
      for (int i = 0; i < 3000; i++) {
        String name = "nobody-" + i;
        PasswordHash standIn = auth.standInFor(name);
        assertSame(standIn, auth.standInFor(name), "a name costs the same every time");
        int kind = -1;
        for (int k = 0; k < order.size(); k++) {
          if (standIn.sameCost(users.get(order.get(k)).hash())) {
            kind = k;
          }
        }
        assertTrue(kind >= 0, "a stand-in costs what a user's hash costs: " + standIn);
        chosen[kind]++;
      }
      // Proportions of the file: half cheap, a quarter each of the others (3000 names; the
      // bounds are over ten standard deviations wide).
      assertTrue(chosen[0] > 1300 && chosen[0] < 1700, java.util.Arrays.toString(chosen));
      assertTrue(chosen[1] > 550 && chosen[1] < 950, java.util.Arrays.toString(chosen));
      assertTrue(chosen[2] > 550 && chosen[2] < 950, java.util.Arrays.toString(chosen));
      assertNull(auth.check("nobody-7", "pw").get(), "and the unknown name is refused");
    }
  }

  @Test
  void shouldCheckAgainstTheFewestIterationsWhenTheFileHasNoUser() {
    try (Authenticator auth = Authenticator.of(new ArrayList<>())) {
      assertEquals(PasswordHash.MIN_ITERATIONS, auth.standInFor("anyone").iterations());
    }
  }
}
