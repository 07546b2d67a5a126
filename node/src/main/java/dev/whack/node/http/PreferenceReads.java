package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionException;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.Preferences;
import dev.whack.node.engine.event.Days;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The preference reads of the API (docs/http.md): {@code GET /profiles/{key}?window=..} with the
 * profile's distributions added as {@code "$preferences"}, and {@code GET
 * /profiles/{key}/affinity?color=red&...}. Both read the profile as {@code GET /profiles/{key}}
 * does (here or from its owner) and work out the answer from its {@code "$dimensions"} ({@link
 * Preferences}), with the window and half-life chosen by the request.
 */
final class PreferenceReads {
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(ms|s|m|h|d|w)");
  private static final double DEFAULT_PRIOR = 10;

  private PreferenceReads() {}

  /** The window, half-life and prior a request chose, or the refusal of a bad one. */
  private record Reading(int windowDays, double halfLifeDays, double prior, Answer refused) {}

  /**
   * The request's reading: {@code window} as {@link HttpApi#windowDays} takes it (the default: the
   * retention), {@code half_life} any positive duration, and for an affinity {@code prior}.
   */
  private static Reading reading(HttpApi api, Map<String, String> p, boolean affinity) {
    int window = api.engine().config().retentionDays();
    String w = p.get("window");
    if (w != null) {
      window = api.windowDays(w);
      if (window < 0) {
        return new Reading(0, 0, 0, api.badWindow(w));
      }
    }
    double halfLife = 0;
    String h = p.get("half_life");
    if (h != null) {
      long millis = millis(h);
      if (millis <= 0) {
        return refused("half_life", "half_life is a positive duration like 7d, not " + h);
      }
      halfLife = (double) millis / Days.MILLIS_PER_DAY;
    }
    double prior = DEFAULT_PRIOR;
    String a = affinity ? p.get("prior") : null;
    if (a != null) {
      try {
        prior = Double.parseDouble(a);
      } catch (NumberFormatException e) {
        prior = -1;
      }
      if (!(prior > 0) || Double.isInfinite(prior)) {
        return refused("prior", "prior is a positive number of events, not " + a);
      }
    }
    return new Reading(window, halfLife, prior, null);
  }

  private static Reading refused(String parameter, String why) {
    return new Reading(
        0, 0, 0, Answer.error(Answer.BAD_REQUEST, "bad_parameter", why, "parameter", parameter));
  }

  /** A duration's milliseconds, or -1 when it is not one. */
  private static long millis(String text) {
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      return -1;
    }
    long n = Long.parseLong(m.group(1));
    return n
        * switch (m.group(2)) {
          case "ms" -> 1L;
          case "s" -> 1_000L;
          case "m" -> 60_000L;
          case "h" -> 3_600_000L;
          case "d" -> Days.MILLIS_PER_DAY;
          default -> 7 * Days.MILLIS_PER_DAY;
        };
  }

  private static int today(HttpApi api) {
    return Days.dayOf(api.engine().config().clock().millis());
  }

  /**
   * The profile with its distributions; {@code traitsDays} > 0 adds its computed traits over that
   * window too, as {@code window} alone does.
   */
  static CompletableFuture<Answer> distributions(
      HttpApi api, byte[] key, Map<String, String> p, int traitsDays, HttpApi.Session session) {
    Reading r = reading(api, p, false);
    if (r.refused() != null) {
      return CompletableFuture.completedFuture(r.refused());
    }
    DimensionRegistry.Set defined = api.engine().dimensionsInForce();
    List<String> names = new ArrayList<>();
    String asked = p.get("dimensions");
    if (asked == null || asked.isEmpty()) {
      for (Dimension d : defined.all()) {
        if (!d.isDistinct()) {
          names.add(d.name());
        }
      }
    } else {
      for (String name : asked.split(",", -1)) {
        Dimension d = defined.byName(name);
        if (d != null && d.isDistinct()) {
          return CompletableFuture.completedFuture(
              Answer.error(
                  Answer.BAD_REQUEST,
                  "bad_dimension",
                  "dimension " + name + " counts distinct values, not categories",
                  "dimension",
                  name));
        }
        if (d == null) {
          return CompletableFuture.completedFuture(
              Answer.error(
                  Answer.BAD_REQUEST,
                  "unknown_dimension",
                  "no dimension " + name + " is defined",
                  "dimension",
                  name));
        }
        names.add(name);
      }
    }
    int today = today(api);
    return api.profile(key, false, false, traitsDays, session)
        .thenApply(
            answer -> {
              if (answer.status() != Answer.OK) {
                return answer;
              }
              Map<String, Preferences.Counts> counts = Preferences.read(answer.body());
              StringBuilder json = new StringBuilder(64 * (names.size() + 1));
              json.append("\"$preferences\":{");
              for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                Preferences.Shares s =
                    Preferences.shares(counts.get(name), today, r.windowDays(), r.halfLifeDays());
                Json.string(json.append(i == 0 ? "" : ","), name).append(":{\"total\":");
                json.append(s.total()).append(",\"shares\":{");
                boolean first = true;
                for (Map.Entry<String, Double> e : s.shares().entrySet()) {
                  Json.string(json.append(first ? "" : ","), e.getKey())
                      .append(':')
                      .append(e.getValue());
                  first = false;
                }
                json.append("}}");
              }
              json.append('}');
              return Answer.ok(withMember(answer.body(), json));
            });
  }

  /** {@code profile} (a JSON object) with one more member, written before its closing brace. */
  private static byte[] withMember(byte[] profile, StringBuilder member) {
    String body = new String(profile, UTF_8).stripTrailing();
    String inner = body.substring(0, body.length() - 1);
    return (inner + (inner.endsWith("{") ? "" : ",") + member + "}").getBytes(UTF_8);
  }

  static CompletableFuture<Answer> affinity(
      HttpApi api, byte[] key, Map<String, String> p, HttpApi.Session session) {
    Reading r = reading(api, p, true);
    if (r.refused() != null) {
      return CompletableFuture.completedFuture(r.refused());
    }
    Map<String, String> item = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : p.entrySet()) {
      if (!e.getKey().equals("window")
          && !e.getKey().equals("half_life")
          && !e.getKey().equals("prior")) {
        item.put(e.getKey(), e.getValue());
      }
    }
    if (item.isEmpty()) {
      return CompletableFuture.completedFuture(
          Answer.error(
              Answer.BAD_REQUEST,
              "no_item",
              "name the item by its dimension values, like ?color=red&price=23500"));
    }
    DimensionRegistry.Set defined = api.engine().dimensionsInForce();
    int today = today(api);
    return api.profile(key, false, false, 0, session)
        .thenApply(
            answer -> {
              if (answer.status() != Answer.OK) {
                return answer;
              }
              Preferences.Affinity a;
              try {
                a =
                    Preferences.affinity(
                        defined,
                        Preferences.read(answer.body()),
                        item,
                        today,
                        r.windowDays(),
                        r.halfLifeDays(),
                        r.prior());
              } catch (DimensionException e) {
                return Answer.error(Answer.BAD_REQUEST, "bad_item", e.getMessage());
              }
              StringBuilder json = new StringBuilder(128).append("{\"key\":");
              Json.string(json, new String(key, UTF_8)).append(",\"affinity\":").append(a.score());
              json.append(",\"window_days\":").append(r.windowDays());
              json.append(",\"half_life_days\":").append(r.halfLifeDays());
              json.append(",\"prior\":").append(r.prior()).append(",\"dimensions\":{");
              boolean first = true;
              for (Preferences.Factor f : a.factors()) {
                Json.string(json.append(first ? "" : ","), f.dimension()).append(":{\"value\":");
                Json.string(json, item.get(f.dimension())).append(",\"category\":");
                Json.string(json, f.category())
                    .append(",\"weight\":")
                    .append(f.weight())
                    .append(",\"total\":")
                    .append(f.total())
                    .append(",\"population_share\":")
                    .append(f.prior())
                    .append(",\"score\":")
                    .append(f.score())
                    .append('}');
                first = false;
              }
              return Answer.ok(json.append("}}"));
            });
  }
}
