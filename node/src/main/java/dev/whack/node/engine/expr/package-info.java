/**
 * The segment language: a hand-written lexer and recursive-descent parser (grammar in
 * docs/segments.md), a type-checking compiler, and allocation-free evaluator nodes that report what
 * they read and until when their answer holds.
 */
package dev.whack.node.engine.expr;
