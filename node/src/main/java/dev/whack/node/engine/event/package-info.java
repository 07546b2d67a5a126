/**
 * Event series: sparse daily buckets (count, sum, sum of squares) per profile and event name, their
 * encoding, and the window and decay functions segment expressions read.
 */
package dev.whack.node.engine.event;
