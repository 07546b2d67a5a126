package dev.whack.node.engine.dimension;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.engine.profile.Timestamps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A profile's preferences as its readers ask for them (docs/profiles.md, "Preferences"): the
 * distribution of a dimension over a window with an optional half-life, and the affinity of an
 * item. Reads a profile's counts from its Profile JSON ({@code "$dimensions"}), which every node
 * serves for any key (its own, or asked of the owner), so a read anywhere in a cluster needs
 * nothing else; the affinity's prior is this node's population (each node holds a share of the
 * profiles, so any node's is a sample of the whole).
 */
public final class Preferences {
  private static final JsonFactory JSON = new JsonFactory();

  private Preferences() {}

  /** One profile's counts in one dimension: day -> category -> count. */
  public record Counts(Map<Integer, Map<String, Long>> days) {}

  /** A dimension's weighted counts over a window: the total weight and each category's share. */
  public record Shares(double total, Map<String, Double> shares) {}

  /** The counts of a Profile JSON document, by dimension; empty when it has none. */
  public static Map<String, Counts> read(byte[] profileJson) {
    Map<String, Counts> out = new TreeMap<>();
    try (JsonParser p = JSON.createParser(profileJson)) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String member = p.currentName();
        p.nextToken();
        if (!member.equals("$dimensions")) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String dimension = p.currentName();
          p.nextToken();
          Map<Integer, Map<String, Long>> days = new TreeMap<>();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            int day = Timestamps.parseDay(p.currentName());
            p.nextToken();
            Map<String, Long> counts = new TreeMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String category = p.currentName();
              if (p.nextToken() == JsonToken.VALUE_NUMBER_INT && !category.startsWith("$")) {
                counts.put(category, p.getLongValue());
              } // else a distinct dimension's day ($distinct, $sketch): no categories
            }
            days.put(day, counts);
          }
          out.put(dimension, new Counts(days));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * The distribution over the last {@code window} days before and including {@code today}, each day
   * weighted {@code 2^(-age / halfLifeDays)} (1 without a half-life), shares largest first (then by
   * name).
   */
  public static Shares shares(Counts counts, int today, int window, double halfLifeDays) {
    Map<String, Double> weights = new TreeMap<>();
    double total = 0;
    if (counts != null) {
      for (Map.Entry<Integer, Map<String, Long>> day : counts.days().entrySet()) {
        int d = day.getKey();
        if (d > today || d <= today - window) {
          continue;
        }
        double w = Distribution.weight(today - d, halfLifeDays);
        for (Map.Entry<String, Long> c : day.getValue().entrySet()) {
          weights.merge(c.getKey(), c.getValue() * w, Double::sum);
          total += c.getValue() * w;
        }
      }
    }
    double sum = total;
    Map<String, Double> shares = new LinkedHashMap<>();
    weights.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> shares.put(e.getKey(), e.getValue() / sum));
    return new Shares(total, shares);
  }

  /** One dimension's part of an affinity: the item's category and its smoothed share. */
  public record Factor(
      String dimension, String category, double weight, double total, double prior, double score) {}

  /** An item's affinity for a profile: the product of its factors. */
  public record Affinity(double score, List<Factor> factors) {}

  /**
   * The affinity of an item (a value per dimension) for a profile: the product over the item's
   * dimensions of {@code (n_c + a * p_c) / (n + a)}, where {@code n_c} is the profile's weighted
   * count of the item's category in the window, {@code n} its weighted count of all categories,
   * {@code p_c} the population's share of that category (this node's counts over the same window
   * and decay; uniform over the categories in use while the population has none) and {@code a} the
   * prior's strength, in events. A profile with no events gets the population's preferences; each
   * event moves it toward its own.
   *
   * @throws DimensionException a dimension this node does not define, or a value a numeric one
   *     cannot place
   */
  public static Affinity affinity(
      DimensionRegistry.Set dimensions,
      Map<String, Counts> profile,
      Map<String, String> item,
      int today,
      int window,
      double halfLifeDays,
      double priorStrength) {
    double score = 1;
    List<Factor> factors = new ArrayList<>();
    Distribution population = new Distribution();
    for (Map.Entry<String, String> e : item.entrySet()) {
      Dimension d = dimensions.byName(e.getKey());
      if (d == null) {
        throw new DimensionException("no dimension " + e.getKey() + " is defined");
      }
      if (d.isDistinct()) {
        throw new DimensionException(
            "dimension " + d.name() + " counts distinct values: it has no categories to favour");
      }
      int category = d.categoryOfValue(e.getValue());
      if (category < 0 && d.spec().kind() == DimensionKind.NUMERIC) {
        throw new DimensionException(
            "dimension "
                + d.name()
                + " is numeric: give a number or a bucket's label, not "
                + e.getValue());
      }
      String label = category < 0 ? e.getValue() : d.label(category);
      Shares own = shares(profile.get(d.name()), today, window, halfLifeDays);
      double n = own.total();
      double nc = own.shares().getOrDefault(label, 0.0) * n;
      population.readPopulation(d, today, window, halfLifeDays);
      double prior =
          population.total() > 0
              ? (category < 0 ? 0 : population.share(category))
              : 1.0 / d.categoriesInUse();
      double factor = (nc + priorStrength * prior) / (n + priorStrength);
      factors.add(new Factor(d.name(), label, nc, n, prior, factor));
      score *= factor;
    }
    return new Affinity(score, factors);
  }
}
