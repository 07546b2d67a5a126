package dev.whack.node.engine;

/**
 * An event series read with a window and a decay chosen at read time.
 *
 * @param count events in the last {@code windowDays} UTC days (today included)
 * @param sum sum of their values
 * @param average mean value, NaN when the window is empty
 * @param variance population variance of the values, NaN when the window is empty
 * @param decayed count with each day weighted {@code 2^(-age/halfLife)} over the retention
 */
public record EventStats(long count, double sum, double average, double variance, double decayed) {}
