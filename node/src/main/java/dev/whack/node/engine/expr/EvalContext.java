package dev.whack.node.engine.expr;

import dev.whack.node.engine.dimension.DistinctWindow;
import dev.whack.node.engine.dimension.Distribution;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.DecodedSeries;
import dev.whack.node.engine.event.WindowResult;
import dev.whack.node.engine.profile.ProfileView;

/**
 * Per-thread scratch for evaluating compiled expressions: the profile view, the time, two operand
 * registers, the "valid until" accumulator and the bound profile's event series decoded on first
 * read (shared by every expression evaluated against that profile). Evaluating allocates nothing.
 *
 * <p>Concurrency: not thread-safe; each evaluating thread owns one context.
 */
public final class EvalContext {
  static final int MISSING = 0;
  static final int STRING = 1;
  static final int INT = 2;
  static final int FLOAT = 3;
  static final int BOOL = 4;
  static final int TIMESTAMP = 5;
  static final int SET = 6;

  private static final MemberSet[] NO_SEGMENTS = new MemberSet[0];

  ProfileView view;
  int ordinal = -1;
  MemberSet[] segments = NO_SEGMENTS;
  long now;
  int today;
  long validUntil = Long.MAX_VALUE;
  boolean needValidity = true;

  final int[] type = new int[2];
  final long[] lng = new long[2];
  final double[] dbl = new double[2];
  final byte[][] buf = new byte[2][];
  final int[] off = new int[2];
  final int[] len = new int[2];
  final WindowResult window = new WindowResult();
  final Distribution distribution = new Distribution();
  final DistinctWindow distinct = new DistinctWindow();

  private final DecodedSeries series = new DecodedSeries();

  /** The profile {@link #series} was decoded from: its bytes and the view's bind stamp then. */
  private byte[] seriesBlob;

  private int seriesStamp;

  /** Binds the profile and the evaluation time. */
  public EvalContext bind(ProfileView profile, long nowMillis) {
    this.view = profile;
    this.now = nowMillis;
    this.today = Days.dayOf(nowMillis);
    return this;
  }

  /**
   * The profile's ordinal and the segments {@code in_segment(...)} reads, in the order of {@link
   * CompiledExpression#segments()}: set before evaluating an expression that reads segments (an
   * expression that reads none never looks at them).
   */
  public EvalContext segments(int profileOrdinal, MemberSet[] resolved) {
    this.ordinal = profileOrdinal;
    this.segments = resolved;
    return this;
  }

  /** Forgets the segments {@link #segments} handed over, so this context keeps none alive. */
  public void clearSegments() {
    this.ordinal = -1;
    this.segments = NO_SEGMENTS;
  }

  /**
   * The series of {@code eventId}, whose bucket count is at {@code pos} in the bound profile,
   * decoded: once per profile however many expressions and days read it. The cache is checked
   * against the view itself (its bytes and bind stamp), not against {@link #bind}, so a view
   * rebound to another profile behind this context's back still reads that profile's series.
   */
  DecodedSeries series(int eventId, int pos) {
    byte[] blob = view.blob();
    if (blob != seriesBlob || view.stamp() != seriesStamp) {
      series.clear();
      seriesBlob = blob;
      seriesStamp = view.stamp();
    }
    series.decode(eventId, blob, pos);
    return series;
  }

  /**
   * Whether evaluations must work out until when their answer holds (default true). Turning it off
   * skips the search for the flip day of window comparisons, for evaluations whose validity is not
   * used; {@link #validUntil()} is then only an upper bound of nothing in particular.
   */
  public EvalContext needValidity(boolean need) {
    this.needValidity = need;
    return this;
  }

  /**
   * Until when (exclusive, epoch ms) the last evaluation's answer holds; MAX_VALUE: until an
   * update.
   */
  public long validUntil() {
    return validUntil;
  }
}
