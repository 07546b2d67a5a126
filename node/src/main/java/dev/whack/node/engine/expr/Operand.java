package dev.whack.node.engine.expr;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.Distribution;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.DecodedSeries;
import dev.whack.node.engine.profile.ProfileCodec;
import dev.whack.node.engine.profile.ValueType;
import java.nio.charset.StandardCharsets;

/** A value-producing node: loads its value into register {@code slot} and returns its type. */
abstract class Operand {
  abstract int load(EvalContext c, int slot);

  /** An attribute read straight from the profile bytes. */
  static final class AttrRef extends Operand {
    final int id;

    AttrRef(int id) {
      this.id = id;
    }

    @Override
    int load(EvalContext c, int slot) {
      int pos = c.view.attribute(id);
      if (pos < 0) {
        return EvalContext.MISSING;
      }
      byte[] b = c.view.blob();
      int type = b[pos];
      switch (type) {
        case ValueType.STRING -> {
          c.buf[slot] = b;
          c.len[slot] = Bytes.varintInt(b, pos + 1);
          c.off[slot] = Bytes.next(b, pos + 1);
          return EvalContext.STRING;
        }
        case ValueType.INT -> {
          c.lng[slot] = Bytes.zigzag(b, pos + 1);
          return EvalContext.INT;
        }
        case ValueType.TIMESTAMP -> {
          c.lng[slot] = Bytes.zigzag(b, pos + 1);
          return EvalContext.TIMESTAMP;
        }
        case ValueType.FLOAT -> {
          c.dbl[slot] = Bytes.float64(b, pos + 1);
          return EvalContext.FLOAT;
        }
        case ValueType.TRUE, ValueType.FALSE -> {
          c.lng[slot] = type == ValueType.TRUE ? 1 : 0;
          return EvalContext.BOOL;
        }
        case ValueType.SET -> {
          c.buf[slot] = b;
          c.off[slot] = pos + 1;
          return EvalContext.SET;
        }
        default -> throw new IllegalStateException("corrupt profile: value type " + type);
      }
    }
  }

  /** A literal; strings are kept as UTF-8 so comparisons are byte comparisons. */
  static final class Literal extends Operand {
    final int type;
    final long lng;
    final double dbl;
    final byte[] utf8;

    private Literal(int type, long lng, double dbl, byte[] utf8) {
      this.type = type;
      this.lng = lng;
      this.dbl = dbl;
      this.utf8 = utf8;
    }

    static Literal string(String s) {
      return new Literal(EvalContext.STRING, 0, 0, s.getBytes(StandardCharsets.UTF_8));
    }

    static Literal integer(long v) {
      return new Literal(EvalContext.INT, v, 0, null);
    }

    static Literal real(double v) {
      return new Literal(EvalContext.FLOAT, 0, v, null);
    }

    static Literal bool(boolean v) {
      return new Literal(EvalContext.BOOL, v ? 1 : 0, 0, null);
    }

    static Literal timestamp(long millis) {
      return new Literal(EvalContext.TIMESTAMP, millis, 0, null);
    }

    @Override
    int load(EvalContext c, int slot) {
      c.lng[slot] = lng;
      c.dbl[slot] = dbl;
      if (utf8 != null) {
        c.buf[slot] = utf8;
        c.off[slot] = 0;
        c.len[slot] = utf8.length;
      }
      return type;
    }
  }

  /** {@code now()} plus a constant offset. */
  static final class Now extends Operand {
    final long offset;

    Now(long offset) {
      this.offset = offset;
    }

    @Override
    int load(EvalContext c, int slot) {
      c.lng[slot] = c.now + offset;
      return EvalContext.TIMESTAMP;
    }
  }

  /**
   * {@code bucket(n[, salt])}: the profile's key hashed into one of {@code n} buckets, the same on
   * every node, restart and version: XXH3-64 of the key's bytes, seeded with XXH3-64 of {@code
   * "whack-bucket:" + salt} (so a salt draws an independent split, and no split follows the
   * cluster's ring or lock stripes, which hash keys unseeded), taken unsigned modulo {@code n}.
   */
  static final class Bucket extends Operand {
    private static final Hasher64 SEEDS = Hashing.xxh3_64();

    final long buckets;
    final Hasher64 hasher;

    Bucket(long buckets, String salt) {
      this.buckets = buckets;
      this.hasher =
          Hashing.xxh3_64(
              SEEDS.hashBytesToLong(("whack-bucket:" + salt).getBytes(StandardCharsets.UTF_8)));
    }

    /** The bucket of a key's bytes; what an evaluation reads, for anyone who must agree. */
    long of(byte[] b, int off, int len) {
      return Long.remainderUnsigned(hasher.hashBytesToLong(b, off, len), buckets);
    }

    @Override
    int load(EvalContext c, int slot) {
      byte[] blob = c.view.blob();
      c.lng[slot] = of(blob, ProfileCodec.keyStart(blob), ProfileCodec.keyLength(blob));
      return EvalContext.INT;
    }
  }

  /**
   * {@code entered(segment)}: when the bound ordinal entered the segment at {@code index} of {@link
   * EvalContext#segments}, a timestamp; missing when it is not a member. It changes only when that
   * membership does, which re-evaluates the segments reading it, so it needs no validity of its own
   * (a comparison with {@code now()} adds the flip time).
   */
  static final class Entered extends Operand {
    final int index;

    Entered(int index) {
      this.index = index;
    }

    @Override
    int load(EvalContext c, int slot) {
      long t = c.segments[index].enteredMillis(c.ordinal);
      if (t == Long.MIN_VALUE) {
        return EvalContext.MISSING;
      }
      c.lng[slot] = t;
      return EvalContext.TIMESTAMP;
    }
  }

  /**
   * The profile's distribution in a dimension over a window (each day weighted by its age when a
   * half-life is given), read into {@link EvalContext#distribution}; lowers "valid until" to the
   * next midnight on which it can change (a counted day leaves the window, a future one enters).
   */
  static Distribution distribution(EvalContext c, Dimension d, int days, double halfLifeDays) {
    Distribution out =
        c.distribution.read(
            d.categories(),
            c.view.blob(),
            c.view.dimensionCounts(),
            d.id(),
            c.today,
            days,
            halfLifeDays);
    if (out.nextChangeDay() != Integer.MAX_VALUE) {
      c.validUntil = Math.min(c.validUntil, Days.startOf(out.nextChangeDay()));
    }
    return out;
  }

  /**
   * {@code share(dimension, value, window[, halfLife])}: a float from 0 to 1; missing when the
   * profile counted nothing in the window. A categorical value not seen on this node yet has share
   * 0 (it is looked up again on every evaluation, until it has an id).
   */
  static final class Share extends Operand {
    final Dimension dimension;
    final byte[] value;
    final int days;
    final double halfLifeDays;
    private volatile int category; // -1 until the categorical value has an id (never changes after)

    Share(Dimension dimension, String value, int category, int days, double halfLifeDays) {
      this.dimension = dimension;
      this.value = value.getBytes(StandardCharsets.UTF_8);
      this.category = category;
      this.days = days;
      this.halfLifeDays = halfLifeDays;
    }

    @Override
    int load(EvalContext c, int slot) {
      Distribution d = distribution(c, dimension, days, halfLifeDays);
      if (d.total() == 0) {
        return EvalContext.MISSING;
      }
      int cat = category;
      if (cat < 0) {
        cat = dimension.findCategory(value);
        category = cat;
      }
      c.dbl[slot] = cat < 0 ? 0 : d.share(cat);
      return EvalContext.FLOAT;
    }
  }

  /**
   * {@code top(dimension, window[, halfLife])}: the category with the largest weight (the first
   * counted on this node among equals), a string; missing when nothing was counted in the window.
   */
  static final class Top extends Operand {
    final Dimension dimension;
    final int days;
    final double halfLifeDays;

    Top(Dimension dimension, int days, double halfLifeDays) {
      this.dimension = dimension;
      this.days = days;
      this.halfLifeDays = halfLifeDays;
    }

    @Override
    int load(EvalContext c, int slot) {
      int top = distribution(c, dimension, days, halfLifeDays).top();
      if (top < 0) {
        return EvalContext.MISSING;
      }
      byte[] label = dimension.labelBytes(top);
      c.buf[slot] = label;
      c.off[slot] = 0;
      c.len[slot] = label.length;
      return EvalContext.STRING;
    }
  }

  /**
   * {@code first_time(e)} / {@code last_time(e)}: the series' first or last event time, a
   * timestamp; missing without the series. It changes only with an update of the series (the times
   * outlive the days they fell on), so it needs no validity of its own: a comparison with {@code
   * now()} adds the instant it flips.
   */
  static final class SeriesTime extends Operand {
    final boolean last;
    final int eventId;

    SeriesTime(boolean last, int eventId) {
      this.last = last;
      this.eventId = eventId;
    }

    @Override
    int load(EvalContext c, int slot) {
      int pos = c.view.series(eventId);
      if (pos < 0) {
        return EvalContext.MISSING;
      }
      DecodedSeries series = c.series(eventId, pos);
      c.lng[slot] = last ? series.lastMillis(eventId) : series.firstMillis(eventId);
      return EvalContext.TIMESTAMP;
    }
  }

  /**
   * A window function over an event series; lowers "valid until" to the next midnight it changes.
   */
  static final class Window extends Operand {
    final Ast.Fn fn;
    final int eventId;
    final int days;
    final double halfLifeDays;
    final int retentionDays;

    Window(Ast.Fn fn, int eventId, long millis, int retentionDays) {
      this.fn = fn;
      this.eventId = eventId;
      this.days = (int) (millis / Days.MILLIS_PER_DAY);
      this.halfLifeDays = (double) millis / Days.MILLIS_PER_DAY;
      this.retentionDays = retentionDays;
    }

    @Override
    int load(EvalContext c, int slot) {
      int type = loadAt(c, slot, c.today);
      if (c.window.nextChangeDay != Integer.MAX_VALUE) {
        c.validUntil = Math.min(c.validUntil, Days.startOf(c.window.nextChangeDay));
      }
      return type;
    }

    /**
     * The aggregate as it will be on {@code day} if no update comes, into register {@code slot};
     * {@code c.window} then tells the next change after that day. Leaves validity alone.
     */
    int loadAt(EvalContext c, int slot, int day) {
      int pos = c.view.series(eventId);
      var w = c.window;
      if (pos < 0) {
        w.count = 0;
        w.nextChangeDay = Integer.MAX_VALUE;
        w.future = false;
        return switch (fn) {
          case COUNT -> {
            c.lng[slot] = 0;
            yield EvalContext.INT;
          }
          case SUM, DECAYED -> {
            c.dbl[slot] = 0;
            yield EvalContext.FLOAT;
          }
          case AVG, VARIANCE, MIN, MAX -> EvalContext.MISSING;
        };
      }
      DecodedSeries series = c.series(eventId, pos);
      if (fn == Ast.Fn.DECAYED) {
        series.decayed(eventId, day, day - retentionDays, halfLifeDays, w);
      } else {
        series.window(eventId, day, days, w);
      }
      switch (fn) {
        case COUNT -> {
          c.lng[slot] = w.count;
          return EvalContext.INT;
        }
        case SUM -> {
          c.dbl[slot] = w.sum;
          return EvalContext.FLOAT;
        }
        case DECAYED -> {
          c.dbl[slot] = w.decayed;
          return EvalContext.FLOAT;
        }
        case MIN, MAX -> {
          if (!w.hasMinMax()) {
            return EvalContext.MISSING; // no valued event in the window, or one day's not known
          }
          c.dbl[slot] = fn == Ast.Fn.MIN ? w.min : w.max;
          return EvalContext.FLOAT;
        }
        case AVG -> {
          if (w.count == 0) {
            return EvalContext.MISSING;
          }
          c.dbl[slot] = w.average();
          return EvalContext.FLOAT;
        }
        default -> {
          if (w.count == 0) {
            return EvalContext.MISSING;
          }
          c.dbl[slot] = w.variance();
          return EvalContext.FLOAT;
        }
      }
    }
  }
}
