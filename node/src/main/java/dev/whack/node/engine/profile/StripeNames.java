package dev.whack.node.engine.profile;

/**
 * The names one lock stripe's profiles use, attributes and events ({@link NameCounts}): a profile's
 * references on its names are counted here, and the stripe holds one reference in each {@link
 * NameTable} per name it counts.
 *
 * <p>Concurrency: guarded by the lock of the stripe that owns it ({@link ProfileTable.Stripe}).
 */
public final class StripeNames {
  private final NameCounts attributes = new NameCounts();
  private final NameCounts events = new NameCounts();

  public NameCounts attributes() {
    return attributes;
  }

  public NameCounts events() {
    return events;
  }
}
