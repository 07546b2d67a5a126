package dev.whack.client.model;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One event's series in a profile ({@code "$events"} in Profile JSON, docs/profiles.md): per UTC
 * day the {@link DayTotals} of the events that day, oldest day first, and the times of the first
 * and last event. A node keeps a day until it leaves the event retention, and refuses a day more
 * than one day in the future.
 *
 * <p>A series built or read without first and last times (as a node wrote them before it kept them)
 * has the midnights (UTC) of its oldest and newest days, as a node takes it and writes it back.
 *
 * <p>Concurrency: immutable.
 */
public final class EventHistory {
  private final Instant first;
  private final Instant last;
  private final SortedMap<LocalDate, DayTotals> days;

  private EventHistory(Instant first, Instant last, SortedMap<LocalDate, DayTotals> days) {
    this.first = first;
    this.last = last;
    this.days = Collections.unmodifiableSortedMap(days);
  }

  /** A builder of a series. */
  public static Builder builder() {
    return new Builder();
  }

  /** The time of the series' first event ({@code "$first"}). */
  public Instant first() {
    return first;
  }

  /** The time of the series' last event ({@code "$last"}). */
  public Instant last() {
    return last;
  }

  /** Each day's totals, oldest first. */
  public SortedMap<LocalDate, DayTotals> days() {
    return days;
  }

  /** Events on every day together. */
  public long totalCount() {
    long n = 0;
    for (DayTotals d : days.values()) {
      n += d.count();
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EventHistory h
        && Objects.equals(first, h.first)
        && Objects.equals(last, h.last)
        && days.equals(h.days);
  }

  @Override
  public int hashCode() {
    return Objects.hash(first, last, days);
  }

  @Override
  public String toString() {
    return "EventHistory[first=" + first + ", last=" + last + ", days=" + days + "]";
  }

  /**
   * Builds an {@link EventHistory}.
   *
   * <p>Concurrency: not thread-safe.
   */
  public static final class Builder {
    private Instant first;
    private Instant last;
    private final TreeMap<LocalDate, DayTotals> days = new TreeMap<>();

    private Builder() {}

    /**
     * The times of the first and last event (to the millisecond), given together as the node keeps
     * them; without them the series has the midnights of its oldest and newest days.
     */
    public Builder times(Instant first, Instant last) {
      Instant f = Rfc3339.millis(first);
      Instant l = Rfc3339.millis(last);
      if (f.isAfter(l)) {
        throw new IllegalArgumentException("first event " + f + " is after the last " + l);
      }
      this.first = f;
      this.last = l;
      return this;
    }

    /** The totals of a UTC day, replacing any given before for that day. */
    public Builder day(LocalDate day, DayTotals totals) {
      Objects.requireNonNull(day, "day");
      Objects.requireNonNull(totals, "totals");
      if (day.getYear() < 0 || day.getYear() > 9999) {
        throw new IllegalArgumentException("day " + day + " is outside years 0000..9999");
      }
      days.put(day, totals);
      return this;
    }

    /** Every day of {@code days}. */
    public Builder days(Map<LocalDate, DayTotals> days) {
      days.forEach(this::day);
      return this;
    }

    /** The series; it has at least one day. */
    public EventHistory build() {
      if (days.isEmpty()) {
        throw new IllegalStateException("an event series has at least one day");
      }
      if (first != null) {
        return new EventHistory(first, last, new TreeMap<>(days));
      }
      return new EventHistory(
          days.firstKey().atStartOfDay().toInstant(ZoneOffset.UTC),
          days.lastKey().atStartOfDay().toInstant(ZoneOffset.UTC),
          new TreeMap<>(days));
    }
  }
}
