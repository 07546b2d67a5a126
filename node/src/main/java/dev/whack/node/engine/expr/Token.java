package dev.whack.node.engine.expr;

/**
 * One lexical token; {@code text} is the token's source, {@code number} its value where it has one.
 */
record Token(Token.Kind kind, int pos, String text, long number, double real) {
  enum Kind {
    IDENT,
    STRING,
    INT,
    FLOAT,
    DURATION,
    TIMESTAMP,
    LPAREN,
    RPAREN,
    LBRACKET,
    RBRACKET,
    COMMA,
    EQ,
    NE,
    LT,
    LE,
    GT,
    GE,
    PLUS,
    MINUS,
    AND,
    OR,
    NOT,
    IN,
    TRUE,
    FALSE,
    EOF
  }

  String describe() {
    return switch (kind) {
      case EOF -> "the end of the expression";
      case STRING -> "a string";
      default -> "'" + text + "'";
    };
  }
}
