/**
 * Kafka as a source of updates (docs/kafka.md): {@link dev.whack.node.kafka.UpdateSource} consumes
 * a topic of updates keyed by profile key and applies each record through the keyspace exactly
 * once, its (topic, partition, offset) being the update's producer mark; {@link
 * dev.whack.node.kafka.RecordFormat} tells what a record holds; {@link
 * dev.whack.node.kafka.DeadLetters} takes the records that cannot be applied.
 */
package dev.whack.node.kafka;
