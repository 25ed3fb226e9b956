package dev.codebook.index.filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses the text form of a {@link Filter}:
 *
 * <pre>
 * expr      := and ( OR and )*
 * and       := unary ( AND unary )*
 * unary     := NOT unary | '(' expr ')' | predicate
 * predicate := name ( '=' | '==' | '!=' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=' ) value
 *            | name [NOT] IN '(' value ( ',' value )* ')'
 *            | name CONTAINS value
 *            | name EXISTS
 * value     := "string" | 'string' | number | true | false | bare-word (a string)
 * name      := [A-Za-z_][A-Za-z0-9_.\-]* | `any text`
 * </pre>
 *
 * Keywords are case-insensitive. A number with a '.', 'e' or 'E' is a float, else an int. Errors
 * are {@link IllegalArgumentException}s naming the column: {@code "at column 12: expected a
 * value, got ')'"}.
 */
public final class FilterParser {

  private final String text;
  private int pos;
  private int depth;

  private FilterParser(String text) {
    this.text = text;
  }

  /** The filter {@code text} describes. */
  public static Filter parse(String text) {
    FilterParser p = new FilterParser(text);
    p.skipSpace();
    if (p.pos == text.length()) {
      throw new IllegalArgumentException("empty filter expression");
    }
    Filter f = p.or();
    p.skipSpace();
    if (p.pos < text.length()) {
      throw p.error("expected AND, OR or the end");
    }
    return f;
  }

  private Filter or() {
    List<Filter> parts = new ArrayList<>();
    parts.add(and());
    while (keyword("OR")) {
      parts.add(and());
    }
    return parts.size() == 1 ? parts.get(0) : wrap(() -> new Filter.Or(parts));
  }

  private Filter and() {
    List<Filter> parts = new ArrayList<>();
    parts.add(unary());
    while (keyword("AND")) {
      parts.add(unary());
    }
    return parts.size() == 1 ? parts.get(0) : wrap(() -> new Filter.And(parts));
  }

  private Filter unary() {
    if (++depth > Filter.MAX_DEPTH) {
      throw error("filter nests deeper than " + Filter.MAX_DEPTH + " levels");
    }
    try {
      if (keyword("NOT")) {
        Filter inner = unary();
        return wrap(() -> new Filter.Not(inner));
      }
      skipSpace();
      if (peek() == '(') {
        pos++;
        Filter f = or();
        expect(')');
        return f;
      }
      return predicate();
    } finally {
      depth--;
    }
  }

  private Filter predicate() {
    int at = pos;
    String name = name();
    if (keyword("EXISTS")) {
      return new Filter.Exists(name);
    }
    if (keyword("CONTAINS")) {
      AttributeValue v = value();
      if (!(v instanceof AttributeValue.StringValue s)) {
        throw error("CONTAINS takes a string, got " + v.kind());
      }
      return new Filter.Contains(name, s.value());
    }
    boolean negated = keyword("NOT");
    if (keyword("IN")) {
      expect('(');
      List<AttributeValue> values = new ArrayList<>();
      do {
        values.add(value());
      } while (accept(','));
      expect(')');
      Filter in = wrapAt(at, () -> new Filter.In(name, values));
      return negated ? new Filter.Not(in) : in;
    }
    if (negated) {
      throw error("expected IN after NOT");
    }
    skipSpace();
    String op = operator();
    AttributeValue v = value();
    return wrapAt(at, () -> switch (op) {
      case "=", "==" -> new Filter.Eq(name, v);
      case "!=" -> new Filter.Ne(name, v);
      case "<" -> new Filter.Range(name, null, true, v, false);
      case "<=" -> new Filter.Range(name, null, true, v, true);
      case ">" -> new Filter.Range(name, v, false, null, true);
      default -> new Filter.Range(name, v, true, null, true);
    });
  }

  private String operator() {
    for (String op : new String[] {"==", "!=", "<=", ">=", "=", "<", ">"}) {
      if (text.startsWith(op, pos)) {
        pos += op.length();
        return op;
      }
    }
    throw error("expected an operator (= != < <= > >=), IN, CONTAINS or EXISTS");
  }

  private String name() {
    skipSpace();
    if (peek() == '`') {
      int end = text.indexOf('`', pos + 1);
      if (end < 0) {
        throw error("unterminated `name`");
      }
      String n = text.substring(pos + 1, end);
      pos = end + 1;
      return n;
    }
    int start = pos;
    if (pos < text.length() && (Character.isLetter(text.charAt(pos)) || text.charAt(pos) == '_')) {
      pos++;
      while (pos < text.length() && isNameChar(text.charAt(pos))) {
        pos++;
      }
    }
    if (start == pos) {
      throw error("expected an attribute name");
    }
    return text.substring(start, pos);
  }

  private AttributeValue value() {
    skipSpace();
    char c = peek();
    if (c == '"' || c == '\'') {
      StringBuilder sb = new StringBuilder();
      int i = pos + 1;
      while (i < text.length() && text.charAt(i) != c) {
        if (text.charAt(i) == '\\' && i + 1 < text.length()) {
          i++;
        }
        sb.append(text.charAt(i++));
      }
      if (i >= text.length()) {
        throw error("unterminated string");
      }
      pos = i + 1;
      return AttributeValue.of(sb.toString());
    }
    int start = pos;
    if (c == '-' || c == '+' || c == '.' || Character.isDigit(c)) {
      pos++;
      while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos))
          || "._+-".indexOf(text.charAt(pos)) >= 0)) {
        pos++;
      }
      String num = text.substring(start, pos);
      try {
        if (num.matches("[+-]?\\d+")) {
          return AttributeValue.of(Long.parseLong(num));
        }
        double d = Double.parseDouble(num);
        if (Double.isNaN(d)) {
          throw new NumberFormatException();
        }
        return AttributeValue.of(d);
      } catch (NumberFormatException e) {
        pos = start;
        throw error("bad number '" + num + "'");
      }
    }
    if (Character.isLetter(c) || c == '_') {
      String word = name();
      String lower = word.toLowerCase(Locale.ROOT);
      if (lower.equals("true") || lower.equals("false")) {
        return AttributeValue.of(lower.equals("true"));
      }
      if (lower.equals("and") || lower.equals("or") || lower.equals("not")) {
        pos = start;
        throw error("expected a value, got the keyword " + word);
      }
      return AttributeValue.of(word);
    }
    throw error("expected a value (\"string\", number, true or false)");
  }

  private boolean keyword(String kw) {
    skipSpace();
    int end = pos + kw.length();
    if (text.regionMatches(true, pos, kw, 0, kw.length())
        && (end == text.length() || !isNameChar(text.charAt(end)))) {
      pos = end;
      return true;
    }
    return false;
  }

  private boolean accept(char c) {
    skipSpace();
    if (peek() == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!accept(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private static boolean isNameChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-';
  }

  private Filter wrap(java.util.function.Supplier<Filter> make) {
    return wrapAt(pos, make);
  }

  /** Builds a node, reporting its constructor's complaint at column {@code at}. */
  private Filter wrapAt(int at, java.util.function.Supplier<Filter> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      pos = at;
      throw error(e.getMessage());
    }
  }

  private IllegalArgumentException error(String message) {
    String got = pos >= text.length() ? "the end" : "'" + text.substring(pos,
        Math.min(text.length(), pos + 12)) + "'";
    return new IllegalArgumentException("at column " + (pos + 1) + ": " + message + ", at " + got);
  }
}
