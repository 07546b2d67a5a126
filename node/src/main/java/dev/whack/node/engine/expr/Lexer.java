package dev.whack.node.engine.expr;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.profile.Timestamps;
import java.util.ArrayList;
import java.util.List;

/** Hand-written lexer for the segment language (docs/segments.md). */
final class Lexer {
  /** Longest accepted expression, in characters. */
  static final int MAX_LENGTH = 10_000;

  private final String src;
  private int pos;
  private final List<Token> tokens = new ArrayList<>();

  private Lexer(String src) {
    this.src = src;
  }

  static List<Token> tokenize(String src) {
    if (src.length() > MAX_LENGTH) {
      throw new ExpressionException(
          MAX_LENGTH, "expression is longer than " + MAX_LENGTH + " characters");
    }
    Lexer l = new Lexer(src);
    l.run();
    return l.tokens;
  }

  private void run() {
    int n = src.length();
    while (true) {
      while (pos < n && Character.isWhitespace(src.charAt(pos))) {
        pos++;
      }
      if (pos >= n) {
        tokens.add(new Token(Token.Kind.EOF, n, "", 0, 0));
        return;
      }
      int start = pos;
      char c = src.charAt(pos);
      switch (c) {
        case '(' -> single(Token.Kind.LPAREN);
        case ')' -> single(Token.Kind.RPAREN);
        case '[' -> single(Token.Kind.LBRACKET);
        case ']' -> single(Token.Kind.RBRACKET);
        case ',' -> single(Token.Kind.COMMA);
        case '+' -> single(Token.Kind.PLUS);
        case '-' -> single(Token.Kind.MINUS);
        case '=' -> {
          if (peek(1) != '=') {
            throw new ExpressionException(start, "'=' is not an operator; use '=='");
          }
          pos += 2;
          tokens.add(new Token(Token.Kind.EQ, start, "==", 0, 0));
        }
        case '!' -> {
          if (peek(1) != '=') {
            throw new ExpressionException(start, "'!' is not an operator; use 'not' or '!='");
          }
          pos += 2;
          tokens.add(new Token(Token.Kind.NE, start, "!=", 0, 0));
        }
        case '<', '>' -> {
          boolean eq = peek(1) == '=';
          pos += eq ? 2 : 1;
          Token.Kind k =
              c == '<'
                  ? (eq ? Token.Kind.LE : Token.Kind.LT)
                  : (eq ? Token.Kind.GE : Token.Kind.GT);
          tokens.add(new Token(k, start, src.substring(start, pos), 0, 0));
        }
        case '"' -> string();
        case '`' -> quotedIdent();
        default -> {
          if (c >= '0' && c <= '9') {
            number();
          } else if (Character.isLetter(c) || c == '_') {
            ident();
          } else {
            throw new ExpressionException(start, "unexpected character '" + c + "'");
          }
        }
      }
    }
  }

  private char peek(int ahead) {
    int i = pos + ahead;
    return i < src.length() ? src.charAt(i) : '\0';
  }

  private void single(Token.Kind kind) {
    tokens.add(new Token(kind, pos, String.valueOf(src.charAt(pos)), 0, 0));
    pos++;
  }

  private void ident() {
    int start = pos;
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (Character.isLetterOrDigit(c) || c == '_' || c == '.') {
        pos++;
      } else {
        break;
      }
    }
    String word = src.substring(start, pos);
    Token.Kind kind =
        switch (word) {
          case "and" -> Token.Kind.AND;
          case "or" -> Token.Kind.OR;
          case "not" -> Token.Kind.NOT;
          case "in" -> Token.Kind.IN;
          case "true" -> Token.Kind.TRUE;
          case "false" -> Token.Kind.FALSE;
          default -> Token.Kind.IDENT;
        };
    tokens.add(new Token(kind, start, word, 0, 0));
  }

  private void quotedIdent() {
    int start = pos;
    int end = src.indexOf('`', pos + 1);
    if (end < 0) {
      throw new ExpressionException(start, "unterminated `quoted name`");
    }
    if (end == pos + 1) {
      throw new ExpressionException(start, "empty `quoted name`");
    }
    pos = end + 1;
    tokens.add(new Token(Token.Kind.IDENT, start, src.substring(start + 1, end), 0, 0));
  }

  private void string() {
    int start = pos++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= src.length()) {
        throw new ExpressionException(start, "unterminated string");
      }
      char c = src.charAt(pos++);
      if (c == '"') {
        break;
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= src.length()) {
        throw new ExpressionException(start, "unterminated string");
      }
      char e = src.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'u' -> {
          if (pos + 4 > src.length()) {
            throw new ExpressionException(pos - 2, "\\u needs four hex digits");
          }
          try {
            sb.append((char) Integer.parseInt(src.substring(pos, pos + 4), 16));
          } catch (NumberFormatException ex) {
            throw new ExpressionException(pos - 2, "\\u needs four hex digits");
          }
          pos += 4;
        }
        default -> throw new ExpressionException(pos - 2, "unknown escape '\\" + e + "'");
      }
    }
    tokens.add(new Token(Token.Kind.STRING, start, sb.toString(), 0, 0));
  }

  private void number() {
    int start = pos;
    while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
      pos++;
    }
    if (pos - start == 4 && peek(0) == '-' && Character.isDigit(peek(1))) {
      timestamp(start);
      return;
    }
    boolean real = false;
    if (peek(0) == '.' && Character.isDigit(peek(1))) {
      real = true;
      pos++;
      while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
        pos++;
      }
    }
    if (peek(0) == 'e' || peek(0) == 'E') {
      int save = pos;
      pos++;
      if (peek(0) == '+' || peek(0) == '-') {
        pos++;
      }
      if (Character.isDigit(peek(0))) {
        real = true;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
          pos++;
        }
      } else {
        pos = save;
      }
    }
    String digits = src.substring(start, pos);
    if (!real && pos < src.length() && Character.isLetter(src.charAt(pos))) {
      duration(start, digits);
      return;
    }
    if (pos < src.length()
        && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
      throw new ExpressionException(pos, "unexpected '" + src.charAt(pos) + "' after a number");
    }
    if (real) {
      double d = Double.parseDouble(digits);
      if (!Double.isFinite(d)) {
        throw new ExpressionException(start, "number " + digits + " is out of range");
      }
      tokens.add(new Token(Token.Kind.FLOAT, start, digits, 0, d));
    } else {
      // The magnitude is checked by the parser, which knows the sign.
      tokens.add(new Token(Token.Kind.INT, start, digits, 0, 0));
    }
  }

  private void duration(int start, String digits) {
    int unitStart = pos;
    while (pos < src.length() && Character.isLetter(src.charAt(pos))) {
      pos++;
    }
    String unit = src.substring(unitStart, pos);
    long perUnit =
        switch (unit) {
          case "ms" -> 1L;
          case "s" -> 1_000L;
          case "m" -> 60_000L;
          case "h" -> 3_600_000L;
          case "d" -> Days.MILLIS_PER_DAY;
          case "w" -> 7 * Days.MILLIS_PER_DAY;
          default ->
              throw new ExpressionException(
                  unitStart, "unknown duration unit '" + unit + "' (use ms, s, m, h, d or w)");
        };
    long millis;
    try {
      millis = Math.multiplyExact(Long.parseLong(digits), perUnit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ExpressionException(start, "duration " + digits + unit + " is too long");
    }
    if (millis > 3660 * Days.MILLIS_PER_DAY * 10) {
      throw new ExpressionException(
          start, "duration " + digits + unit + " is longer than 100 years");
    }
    tokens.add(new Token(Token.Kind.DURATION, start, digits + unit, millis, 0));
  }

  private void timestamp(int start) {
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (Character.isDigit(c)
          || c == '-'
          || c == ':'
          || c == '.'
          || c == 'T'
          || c == 'Z'
          || (c == '+' && pos > start + 10)) {
        pos++;
      } else {
        break;
      }
    }
    // A trailing '-' belongs to arithmetic ("2026-01-01 - 1d" needs spaces; "2026-01-01-" is
    // wrong).
    String text = src.substring(start, pos);
    long millis;
    try {
      if (text.length() == 10) {
        millis = Days.startOf(Timestamps.parseDay(text));
      } else {
        millis = Timestamps.parse(text);
      }
    } catch (IllegalArgumentException e) {
      throw new ExpressionException(
          start,
          "invalid timestamp " + text + " (use YYYY-MM-DD or RFC 3339 like 2026-11-20T10:00:00Z)");
    }
    tokens.add(new Token(Token.Kind.TIMESTAMP, start, text, millis, 0));
  }
}
