/**
 * Durability (issue 14): the append-only log of a node's changes and, later, its snapshots. The
 * log's format and its group commit live here; what is recorded, and when, is decided where the
 * keyspace changes an item (docs/architecture.md, "Durability").
 */
package dev.whack.node.durability;
